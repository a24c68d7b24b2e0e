"""``python manage.py import_budget_lines FILE [--dry-run] [--items] [--user USERNAME]``.

Imports budget lines (or, with ``--items``, budget items) from a CSV or XLSX file through the
same resources as the admin (``funding.resources``). A file with any problem exits with status 1,
lists every problem with its line, column and value, and writes nothing.
"""

from django.utils.translation import gettext as _

from funding.management.spreadsheet_import import SpreadsheetImportCommand
from funding.resources import BudgetItemResource, BudgetLineResource


class Command(SpreadsheetImportCommand):
    help = (
        "Import budget lines (or items, with --items) from a CSV or XLSX file, in one "
        "transaction. A file with any error writes nothing."
    )
    name = "import_budget_lines"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--items",
            action="store_true",
            help="the file holds budget items (all items of each line it names)",
        )

    def resource_class(self, *, items, **options):
        return BudgetItemResource if items else BudgetLineResource

    def summary(self, counts, resource, *, items, **options) -> str:
        if items:
            return _(
                "%(file)s: %(new)d new, %(updated)d updated, %(unchanged)d unchanged and "
                "%(removed)d removed budget items."
            ) % {**counts, "removed": len(resource.plan.stale_items)}
        return (
            _(
                "%(file)s: %(new)d new, %(updated)d updated and %(unchanged)d unchanged "
                "budget lines."
            )
            % counts
        )
