"""``python manage.py restore_data FILE [--replace]``: load a backup written by ``backup_data``.

All or nothing, in one transaction. Refused, with status 1 and nothing written: a file that is not
a backup, is truncated or damaged (its checksum), was made at another migration state than the
database's, or a database that already holds data unless ``--replace`` is given (which deletes
that data in the same transaction). See ``funding/backup.py``.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from funding.backup import BackupError, backup_read, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup written by backup_data, in one transaction, into an empty database "
        "(or, with --replace, in place of its data)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup, e.g. backup.json.gz")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the data the database holds (and its sessions) and restore the backup "
            "in its place, in the same transaction",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="the database to restore into (its alias)"
        )

    def handle(self, *args, file, replace, database, **options):
        try:
            backup = backup_read(Path(file))
            restored = backup_restore(backup=backup, replace=replace, using=database)
        except BackupError as error:
            raise CommandError(str(error)) from None
        if restored.deleted:
            self.stdout.write(
                _("Deleted the data the database held: %(rows)d rows.") % {"rows": restored.deleted}
            )
        self.stdout.write(
            _("Restored %(file)s, made %(created)s: %(rows)d rows of %(tables)d tables.")
            % {
                "file": file,
                "created": _when(backup.created_at),
                "rows": sum(restored.counts.values()),
                "tables": len(restored.counts),
            }
        )
        for label, count in restored.counts.items():
            self.stdout.write(f"  {label}: {count}")


def _when(created_at: str) -> str:
    """The backup's time as the interface writes times (22. 11. 2026 11:12)."""
    moment = parse_datetime(created_at)
    if moment is None:
        return created_at
    return date_format(localtime(moment), "SHORT_DATETIME_FORMAT")
