"""``python manage.py import_strategy FILE``: create or replace a strategy from strategy/v1 JSON."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from funding.exchange import ExchangeError, parse_strategy_document
from funding.limits import MAX_DOCUMENT_BYTES
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

    def handle(self, *args, file, **options):
        text = read_document_text(file)
        try:
            strategy = strategy_import(document=parse_strategy_document(text))
        except ExchangeError as error:
            for problem in error.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(
                _("%(file)s was not imported (%(count)d problems); nothing was changed.")
                % {"file": file, "count": len(error.problems)}
            ) from None
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
