"""``python manage.py export_strategy SLUG``: write a strategy as strategy/v1 JSON to stdout."""

from django.core.management.base import BaseCommand

from funding.exchange import strategy_json
from funding.management.lookups import strategy_or_command_error


class Command(BaseCommand):
    help = "Write a strategy in the strategy/v1 JSON exchange format to standard output."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the strategy's slug, e.g. kras-2025-2029")

    def handle(self, *args, slug, **options):
        strategy = strategy_or_command_error(slug)
        self.stdout.write(strategy_json(strategy), ending="")
