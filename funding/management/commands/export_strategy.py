"""``python manage.py export_strategy SLUG``: write a strategy as strategy/v1 JSON to stdout."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from funding.exchange import strategy_json
from funding.models import FundingStrategy


class Command(BaseCommand):
    help = "Write a strategy in the strategy/v1 JSON exchange format to standard output."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the strategy's slug, e.g. kras-2025-2029")

    def handle(self, *args, slug, **options):
        strategy = FundingStrategy.objects.filter(slug=slug).first()
        if strategy is None:
            known = ", ".join(FundingStrategy.objects.values_list("slug", flat=True)) or "—"
            raise CommandError(
                _("There is no strategy “%(slug)s”. Known strategies: %(known)s")
                % {"slug": slug, "known": known}
            )
        self.stdout.write(strategy_json(strategy), ending="")
