"""``python manage.py import_strategy FILE [--update-register] [--user USERNAME]``.

Creates or replaces a strategy from a strategy/v1 JSON file. The municipalities, associations,
institutions and programmes it names are shared register records: a document whose values for
an existing one differ from the stored ones is refused, naming each difference, unless
``--update-register`` allows changing them — with ``--user``, only those that user may change
(funding.register).
"""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from funding.exchange import ExchangeError, parse_strategy_document
from funding.limits import MAX_DOCUMENT_BYTES
from funding.register import RegisterConflict
from funding.services import strategy_import


def read_document_text(name: str) -> str:
    """Read a UTF-8 file (a byte-order mark is allowed), or standard input for "-".

    A file over the size limit is refused before it is read; standard input is read only up
    to one byte past the limit.
    """
    try:
        if name == "-":
            raw = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
            size = len(raw)
        else:
            size = Path(name).stat().st_size
            raw = b"" if size > MAX_DOCUMENT_BYTES else Path(name).read_bytes()
    except OSError as error:
        raise CommandError(
            _("Cannot read %(file)s: %(reason)s") % {"file": name, "reason": error.strerror}
        ) from None
    if size > MAX_DOCUMENT_BYTES:
        raise CommandError(
            _("%(file)s is %(size)d bytes; a strategy file may have at most %(max)d.")
            % {"file": name, "size": size, "max": MAX_DOCUMENT_BYTES}
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CommandError(
            _("%(file)s is not UTF-8 text (byte %(position)d).")
            % {"file": name, "position": error.start}
        ) from None


class Command(BaseCommand):
    help = (
        "Create or replace a strategy from a strategy/v1 JSON file, in one transaction. "
        "A file with any error writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help='the JSON file, or "-" for standard input')
        parser.add_argument(
            "--update-register",
            action="store_true",
            help="change existing municipalities, associations, institutions and programmes "
            "whose values in the file differ from the register's (refused without it)",
        )
        parser.add_argument(
            "--user",
            help="who imports: with --update-register, only the register records this user "
            "may change are changed, and history records the user; without it the import is "
            "a system import",
        )

    def handle(self, *args, file, update_register, user, **options):
        importer = _user_named(user)
        text = read_document_text(file)
        try:
            strategy = strategy_import(
                document=parse_strategy_document(text),
                update_register=update_register,
                user=importer,
                change_reason=f"import_strategy {Path(file).name}",
            )
        except ExchangeError as error:
            hint = None
            if isinstance(error, RegisterConflict) and not update_register:
                hint = _(
                    "Municipalities, associations, institutions and programmes are shared by "
                    "every strategy and report; an import does not change them. Correct the "
                    "file, or import it with --update-register to change them."
                )
            self._refuse(file, error.problems, hint)
        except ValidationError as error:
            self._refuse(file, error.messages)
        self.stdout.write(
            _(
                "Imported strategy %(slug)s: %(municipalities)d municipalities, "
                "%(associations)d associations, %(lines)d budget lines."
            )
            % {
                "slug": strategy.slug,
                "municipalities": strategy.shares.count(),
                "associations": strategy.strategy_associations.count(),
                "lines": strategy.lines.count(),
            }
        )

    def _refuse(self, file, problems, hint=None):
        for problem in problems:
            self.stderr.write(f"  {problem}")
        if hint:
            self.stderr.write(hint)
        raise CommandError(
            _("%(file)s was not imported (%(count)d problems); nothing was changed.")
            % {"file": file, "count": len(problems)}
        )


def _user_named(username: str | None):
    if username is None:
        return None
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(_("There is no user %(username)s.") % {"username": username}) from None
