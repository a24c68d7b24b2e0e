"""``python manage.py import_activities FILE [--dry-run] [--user USERNAME]``.

Imports the activities of action plans (chapter, objective, activity, half-years, expected
results, lead and partner institutions) from a CSV or XLSX file through the same resource as
the admin (``ActivityResource``). A file with any problem exits with status 1, lists every
problem with its line, column and value, and writes nothing. The rules are those of
``programs.imports``.
"""

from django.utils.translation import gettext as _

from funding.management.spreadsheet_import import SpreadsheetImportCommand
from programs.resources import ActivityResource


class Command(SpreadsheetImportCommand):
    help = (
        "Import activities of action plans from a CSV or XLSX file, in one transaction. "
        "A file with any error writes nothing."
    )
    name = "import_activities"

    def resource_class(self, **options):
        return ActivityResource

    def summary(self, counts, resource, **options) -> str:
        return (
            _("%(file)s: %(new)d new, %(updated)d updated and %(unchanged)d unchanged activities.")
            % counts
        )
