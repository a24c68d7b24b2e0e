"""``python manage.py backup_data --output FILE``: every row of the application's data in one file.

The file's format and what it holds are described in ``funding/backup.py``; ``restore_data``
loads it back. A file that cannot be written exits with status 1 and leaves no partial file.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _

from funding.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the application's data (strategies, reports, history, users and groups) to a "
        "gzip-compressed JSON file that restore_data loads into SQLite or PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", required=True, help="the file to write, e.g. backup.json.gz"
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="the database to back up (its alias)"
        )

    def handle(self, *args, output, database, **options):
        target = Path(output)
        if target.is_dir():
            reason = _("it is a folder")
        elif not target.parent.is_dir():
            reason = _("the folder %(folder)s does not exist") % {"folder": target.parent}
        else:
            reason = None
        if reason:
            raise CommandError(
                _("Cannot write “%(path)s”: %(reason)s.") % {"path": output, "reason": reason}
            )
        try:
            written = backup_create(path=target, using=database)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _(
                "Backup %(file)s written: %(rows)d rows of %(tables)d tables, %(size)d bytes, "
                "SHA-256 of the data %(sha256)s."
            )
            % {
                "file": written.path,
                "rows": sum(written.counts.values()),
                "tables": len(written.counts),
                "size": written.size,
                "sha256": written.sha256,
            }
        )
        for label, count in written.counts.items():
            self.stdout.write(f"  {label}: {count}")
