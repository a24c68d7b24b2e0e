"""Locks that documents higher up put on the rows they show, asked for by the layers below.

A published annual report (programs) shows municipal budget items, their allocations and
reallocations (funding); those rows then must not change. The rule lives with the documents
(``programs.publication``); this registry lets the domain's admin and services ask for it
without importing the layer above: that layer registers its check when its app is ready.
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import models

LockCheck = Callable[[models.Model], str | None]

_checks: list[LockCheck] = []


def lock_register(check: LockCheck) -> None:
    """Add a check that returns why a row may not change or be deleted, or None."""
    if check not in _checks:
        _checks.append(check)


def lock_reason(obj: models.Model) -> str | None:
    """Why the row may not change or be deleted now, or None when it may."""
    for check in _checks:
        reason = check(obj)
        if reason:
            return reason
    return None


def refuse_if_row_locked(obj: models.Model) -> None:
    """Raise a ValidationError naming the reason when the row may not change."""
    reason = lock_reason(obj)
    if reason:
        raise ValidationError(reason, code="row_locked")
