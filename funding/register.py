"""Shared register records as an import writes them: matched, compared, never silently changed.

Municipalities, associations, programmes and institutions are shared by every strategy and
report that names them: a municipality's mayor is printed in each strategy's council
resolution. An import matches an existing record by its key (a slug; an institution by its
abbreviation, a programme by its association and name) and compares the document's values
with the stored ones:

- a value the document leaves empty (or out) is not given: the stored one is kept, so a
  document that knows less about a record than the register does not erase anything;
- a value that differs is a change of the register. Unless the import allows updating the
  register, the whole import is refused with every such difference — the record, the field,
  the stored and the document's value — and nothing is written. When it does allow it and
  names a user, each changed record also takes that user's right to change it
  (``programs.permissions.can_change_register_record``); a system import (no user) may.

A new record is created with the document's values. Saved records get a history entry with
the importing user and the reason.
"""

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from funding.exchange import ExchangeError
from programs.permissions import can_change_register_record

# simple-history keeps the reason in a column of 100 characters.
REASON_LENGTH = 100


class RegisterConflict(ExchangeError):
    """An import that would change register records it may not change; nothing was written."""


@dataclass
class _Entry:
    record: models.Model
    path: str
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field: (stored, given)
    funders: list | None = None  # a programme's other funders to set, when given

    @property
    def is_new(self) -> bool:
        return self.record.pk is None


def _given(value: Any) -> bool:
    return value not in ("", None, [], ())


def _shown(value: Any) -> str:
    """A value as a refusal quotes it: as the document writes it, shortened when long."""
    if isinstance(value, datetime.date):
        value = value.isoformat()
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 60 else shown[:57] + "…"


def record_label(record: models.Model) -> str:
    """A register record as a message names it: its kind, its name and its key."""
    key = getattr(record, "slug", None) or getattr(record, "short_name", "")
    if hasattr(record, "association_id") and record.association_id is not None:
        key = record.association.slug
    return f"{record._meta.verbose_name} {record} ({key})"


class RegisterImport:
    """The register records of one import: matched and compared first, saved at the end."""

    def __init__(self):
        self.entries: list[_Entry] = []

    def match(self, model, lookup: dict, values: dict, path: str, *, new_values=None):
        """The record of ``lookup``, existing or new (unsaved), with the document's values.

        ``new_values`` are used only when the record is new (a short name that defaults to the
        name, for example, must not replace a stored short name).
        """
        record = None
        if all(getattr(value, "pk", True) is not None for value in lookup.values()):
            record = model.objects.filter(**lookup).first()
        if record is None:
            defaults = new_values or {}
            values = {
                **defaults,
                **{name: v for name, v in values.items() if _given(v) or name not in defaults},
            }
            record = model(**lookup, **values)
            self.entries.append(_Entry(record, path))
            return record
        entry = _Entry(record, path)
        for name, given in values.items():
            stored = getattr(record, name)
            if _given(given) and given != stored:
                entry.changes[name] = (stored, given)
        self.entries.append(entry)
        return record

    def match_funders(self, programme, funders: list) -> None:
        """A programme's other funders: set on a new programme; compared on an existing one
        when the document names any."""
        entry = next(e for e in self.entries if e.record is programme)
        if entry.is_new:
            entry.funders = funders
            return
        if not funders:
            return
        stored = sorted(programme.other_funders.values_list("short_name", flat=True))
        given = sorted(institution.short_name for institution in funders)
        if stored != given:
            entry.changes["other_funders"] = (", ".join(stored), ", ".join(given))
            entry.funders = funders

    def refuse_changes(self, *, update: bool, user) -> None:
        """Raise RegisterConflict listing every change the import may not make."""
        changed = [entry for entry in self.entries if entry.changes]
        if not update:
            problems = [
                _(
                    "%(path)s.%(field)s: the register's %(record)s has %(stored)s; "
                    "the document has %(given)s"
                )
                % {
                    "path": entry.path,
                    "field": name,
                    "record": record_label(entry.record),
                    "stored": _shown(stored),
                    "given": _shown(given),
                }
                for entry in changed
                for name, (stored, given) in entry.changes.items()
            ]
        elif user is not None:
            problems = [
                _("%(path)s: %(user)s may not change the register's %(record)s")
                % {"path": entry.path, "user": user, "record": record_label(entry.record)}
                for entry in changed
                if not can_change_register_record(user, entry.record)
            ]
        else:
            problems = []
        if problems:
            raise RegisterConflict(problems)

    def save(self, *, validate, user, reason: str) -> None:
        """Save the new and the changed records (validated by ``validate(record, path)``),
        each with a history entry of the user and the reason."""
        for entry in self.entries:
            if not (entry.is_new or entry.changes):
                continue
            for name, (_stored, given) in entry.changes.items():
                if name != "other_funders":
                    setattr(entry.record, name, given)
            _link_saved_parents(entry.record)
            validate(entry.record, entry.path)
            entry.record._history_user = user
            entry.record._change_reason = reason[:REASON_LENGTH] or None
            entry.record.save()
            if entry.funders is not None:
                entry.record.other_funders.set(entry.funders)


def _link_saved_parents(record: models.Model) -> None:
    """Point a new record's foreign keys at parents saved since it was matched (a new
    association's programmes): validation reads the key's column, not the parent object."""
    for key in record._meta.concrete_fields:
        if key.is_relation and key.is_cached(record):
            setattr(record, key.name, getattr(record, key.name))
