"""``python manage.py import_allocations FILE [--dry-run] [--user USERNAME]``.

Imports the allocations of municipal budget items (recipient, planned and realised amount)
from a CSV or XLSX file through the same resource as the admin (``AllocationResource``). A file
with any problem exits with status 1, lists every problem with its line, column and value, and
writes nothing. The rules are those of ``funding.imports``.
"""

from django.utils.translation import gettext as _

from funding.management.spreadsheet_import import SpreadsheetImportCommand
from funding.resources import AllocationResource


class Command(SpreadsheetImportCommand):
    help = (
        "Import allocations of municipal budget items from a CSV or XLSX file, in one "
        "transaction. A file with any error writes nothing."
    )
    name = "import_allocations"

    def resource_class(self, **options):
        return AllocationResource

    def summary(self, counts, resource, **options) -> str:
        return (
            _("%(file)s: %(new)d new, %(updated)d updated and %(unchanged)d unchanged allocations.")
            % counts
        )
