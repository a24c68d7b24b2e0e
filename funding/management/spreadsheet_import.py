"""What the spreadsheet import commands share: reading the file, importing, reporting.

``import_budget_lines`` and ``import_allocations`` import a CSV or XLSX file through the same
resources as the admin (``funding.resources``). A file with any problem exits with status 1,
lists every problem with its line, column and value, and writes nothing.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from import_export.results import RowResult

from funding.imports import ImportFileError, read_table, too_big_message
from funding.limits import MAX_FILE_BYTES
from funding.resources import without_preview


def read_file(path: Path) -> bytes:
    """The file's bytes; a file over the size limit is refused before it is read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFileError([too_big_message(path.name, size)])
        return path.read_bytes()
    except OSError as error:
        raise CommandError(
            _("Cannot read %(file)s: %(reason)s") % {"file": str(path), "reason": error.strerror}
        ) from None


def import_problems(resource, result) -> list[str]:
    """Every problem of an import: the file's, each row's, and any error while writing."""
    if resource.refusal:
        return list(resource.refusal)
    problems = list(resource.plan.problems) if resource.plan else []
    problems += [str(error.error) for error in result.base_errors]
    problems += [str(error.error) for row in result.error_rows for error in row.errors]
    return problems


class SpreadsheetImportCommand(BaseCommand):
    """``FILE [--dry-run] [--user USERNAME]``; a subclass names its resource and its summary."""

    # What history records as the reason, before the file's name.
    name = ""

    def add_arguments(self, parser):
        parser.add_argument("file", help="a CSV (; or , separated, UTF-8) or XLSX file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count, but write nothing"
        )
        parser.add_argument(
            "--user",
            help="who imports: permissions are checked for this user, and history records it; "
            "without it the import is a system import allowed to write anything",
        )

    def resource_class(self, **options):
        raise NotImplementedError

    def summary(self, counts: dict, resource, **options) -> str:
        """One line of counts; ``counts`` has file, new, updated and unchanged."""
        raise NotImplementedError

    def handle(self, *args, file, dry_run, user, **options):
        path = Path(file)
        importer = self._importing_user(user)
        try:
            dataset = read_table(read_file(path), path.name)
        except ImportFileError as error:
            self._refuse(file, error.problems)
        resource = without_preview(self.resource_class(**options))(
            user=importer, as_system=importer is None
        )
        result = resource.import_data(
            dataset,
            dry_run=dry_run,
            user=importer,
            file_name=path.name,
            change_reason=f"{self.name} {path.name}",
        )
        problems = import_problems(resource, result)
        if problems:
            self._refuse(file, problems)
        counts = {
            "file": path.name,
            "new": result.totals[RowResult.IMPORT_TYPE_NEW],
            "updated": result.totals[RowResult.IMPORT_TYPE_UPDATE],
            "unchanged": sum(1 for row in resource.plan.rows if row.unchanged),
        }
        self.stdout.write(self.summary(counts, resource, **options))
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))

    def _importing_user(self, username):
        if username is None:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(
                _("There is no user %(username)s.") % {"username": username}
            ) from None

    def _refuse(self, file, problems):
        for problem in problems:
            self.stderr.write(f"  {problem}")
        raise CommandError(
            _("%(file)s was not imported (%(count)d problems); nothing was changed.")
            % {"file": file, "count": len(problems)}
        )
