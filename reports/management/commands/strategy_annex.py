"""``python manage.py strategy_annex SLUG [--municipality SLUG] --output FILE``.

Without ``--municipality``: the strategy's annex (as adopted while the strategy is in force,
so its SHA-256 is the one stored on adoption). With it: that council's resolution (SKLEP).
Bad arguments are refused before anything is rendered or written.
"""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from funding.adoption import sha256
from funding.management.lookups import strategy_to_split_or_command_error
from reports.annex import current_annex, participant, render_resolution


def writable_target(output: str) -> Path:
    """The output path, if a file can be written there; CommandError naming it otherwise."""
    target = Path(output)
    folder = target.parent
    if target.is_dir():
        reason = _("it is a folder")
    elif not folder.is_dir():
        reason = _("the folder %(folder)s does not exist") % {"folder": folder}
    elif not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        reason = _("permission denied")
    else:
        return target
    raise CommandError(
        _("Cannot write “%(path)s”: %(reason)s.") % {"path": output, "reason": reason}
    )


def write_atomically(target: Path, content: bytes) -> None:
    """Write the whole file or nothing: a failed write leaves no half-written PDF behind."""
    partial = target.with_name(f".{target.name}.part")
    try:
        partial.write_bytes(content)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CommandError(
            _("Cannot write “%(path)s”: %(reason)s.")
            % {"path": target, "reason": error.strerror or error}
        ) from error


class Command(BaseCommand):
    help = "Write a strategy's annex, or one participating council's resolution, as PDF."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the strategy's slug, e.g. kras-2025-2029")
        parser.add_argument(
            "--municipality",
            help="write this participating municipality's council resolution (its slug) "
            "instead of the annex",
        )
        parser.add_argument("--output", required=True, help="the PDF file to write")

    def handle(self, *args, slug, municipality, output, **options):
        strategy = strategy_to_split_or_command_error(slug)
        target = writable_target(output)
        if municipality is None:
            rendered = current_annex(strategy)
        else:
            council = participant(strategy, municipality)
            if council is None:
                known = strategy.shares.order_by("position", "id").values_list(
                    "municipality__slug", flat=True
                )
                raise CommandError(
                    _(
                        "The municipality “%(slug)s” does not take part in this strategy; "
                        "its municipalities are %(known)s."
                    )
                    % {"slug": municipality, "known": ", ".join(known)}
                )
            rendered = render_resolution(strategy, council)
        write_atomically(target, rendered.content)
        self.stdout.write(
            ngettext(
                "Wrote %(path)s: %(pages)d page, SHA-256 %(sha256)s",
                "Wrote %(path)s: %(pages)d pages, SHA-256 %(sha256)s",
                rendered.pages,
            )
            % {"path": target, "pages": rendered.pages, "sha256": sha256(rendered.content)}
        )
