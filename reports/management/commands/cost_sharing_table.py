"""``python manage.py cost_sharing_table SLUG --year 2025 --format pdf [--municipality SLUG]``."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from funding.management.lookups import strategy_to_split_or_command_error, whole_number
from reports.documents import FORMATS, render_cost_sharing
from reports.selectors import cost_sharing_table


class Command(BaseCommand):
    help = "Write a strategy's cost-sharing table for a year as HTML, PDF, CSV, XLSX or JSON."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the strategy's slug, e.g. kras-2025-2029")
        parser.add_argument(
            "--year", type=whole_number, required=True, help="a year of the strategy"
        )
        parser.add_argument("--format", choices=FORMATS, default="html", dest="fmt")
        parser.add_argument("--municipality", help="one municipality's annex (its slug)")
        parser.add_argument("--output", help="file to write; standard output when omitted")

    def handle(self, *args, slug, year, fmt, municipality, output, **options):
        strategy = strategy_to_split_or_command_error(slug)
        if year not in strategy.years:
            raise CommandError(
                _("The year %(year)s lies outside the strategy's period %(start)s–%(end)s.")
                % {"year": year, "start": strategy.start_year, "end": strategy.end_year}
            )
        table = cost_sharing_table(strategy, year)
        if municipality is not None:
            slugs = [column.slug for column in table.columns]
            if municipality not in slugs:
                raise CommandError(
                    _(
                        "The municipality “%(slug)s” does not take part in this strategy; "
                        "its municipalities are %(known)s."
                    )
                    % {"slug": municipality, "known": ", ".join(slugs)}
                )
            table = table.for_municipality(municipality)
        content = render_cost_sharing(table, fmt).content
        if output:
            Path(output).write_bytes(content)
        elif fmt in ("pdf", "xlsx"):
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
