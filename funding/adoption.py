"""A strategy's adoption: proposal, each council's resolution, coming into force, amendments.

The rule is the seed resolution's: the strategy takes effect on the day the last of the
participating councils adopts it, and applies from 1 January of its first year. On that day the
revision is frozen: the strategy/v1 document as adopted and the SHA-256 of its annex PDF are
stored and never change. Later changes are an amendment, a new revision with its own proposal
and adoptions; until it is in force the adopted version stays the one that applies.

Refusals raise ValidationError with a message naming the value, and write nothing.
"""

import datetime
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from funding.exchange import parse_strategy_document, strategy_json
from funding.models import (
    FundingStrategy,
    Municipality,
    StrategyAdoption,
    StrategyRevision,
)

Status = StrategyRevision.Status


def _day(value: datetime.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def sha256(content: bytes | str) -> str:
    """The hex SHA-256 of bytes, or of text encoded as UTF-8."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    return hashlib.sha256(content).hexdigest()


def revision_status_label(revision: StrategyRevision | None) -> str:
    """The status as an officer reads it: draft, proposed, adopted by k of n, in force."""
    if revision is None or revision.status == Status.DRAFT:
        return str(Status.DRAFT.label)
    if revision.status == Status.IN_FORCE:
        return _("in force since %(date)s") % {"date": _day(revision.in_force_on)}
    adopted = revision.adoptions.count()
    if adopted == 0:
        return _("proposed on %(date)s") % {"date": _day(revision.proposed_on)}
    return _("adopted by %(adopted)d of %(total)d councils") % {
        "adopted": adopted,
        "total": revision.strategy.shares.count(),
    }


def next_revision_number(strategy: FundingStrategy) -> int:
    """1 for a strategy's first revision, one more than the last for an amendment."""
    latest = strategy.latest_revision()
    return latest.number + 1 if latest else 1


@transaction.atomic
def revision_open(*, strategy: FundingStrategy, reason: str = "") -> StrategyRevision:
    """Open the strategy's first revision, or an amendment of the one in force."""
    strategy = FundingStrategy.objects.select_for_update().get(pk=strategy.pk)
    latest = strategy.latest_revision()
    if latest is not None and latest.status != Status.IN_FORCE:
        raise ValidationError(
            _("The strategy %(slug)s already has %(revision)s that is not yet in force.")
            % {"slug": strategy.slug, "revision": latest.label},
            code="revision_open",
        )
    revision = StrategyRevision(
        strategy=strategy, number=next_revision_number(strategy), reason=reason.strip()
    )
    revision.full_clean()
    revision.save()
    return revision


@transaction.atomic
def revision_propose(*, revision: StrategyRevision, proposed_on: datetime.date) -> StrategyRevision:
    """Put a draft revision to the councils: from now on its data cannot change."""
    revision = StrategyRevision.objects.select_for_update().get(pk=revision.pk)
    strategy = revision.strategy
    if revision.status != Status.DRAFT:
        raise ValidationError(
            _("%(revision)s of %(slug)s is not a draft (it is %(status)s).")
            % {
                "revision": revision.label,
                "slug": strategy.slug,
                "status": revision.get_status_display(),
            },
            code="not_draft",
        )
    if proposed_on > timezone.localdate():
        raise ValidationError(
            {
                "proposed_on": _("The proposal date %(date)s is in the future.")
                % {"date": _day(proposed_on)}
            },
            code="future_date",
        )
    previous = strategy.revisions.filter(number__lt=revision.number).order_by("-number").first()
    if previous is not None and proposed_on < previous.in_force_on:
        raise ValidationError(
            {
                "proposed_on": _(
                    "The amendment cannot be proposed on %(date)s, before the strategy came "
                    "into force on %(in_force)s."
                )
                % {"date": _day(proposed_on), "in_force": _day(previous.in_force_on)}
            },
            code="before_in_force",
        )
    # FundingStrategy.key_problem asks the key's one rule (funding.models.key_error).
    problem = strategy.key_problem()
    if problem:
        raise ValidationError(problem, code="key_incomplete")
    if not strategy.lines.filter(year=strategy.start_year).exists():
        raise ValidationError(
            _("%(slug)s has no budget lines for its base year %(year)s: nothing to adopt.")
            % {"slug": strategy.slug, "year": strategy.start_year},
            code="no_lines",
        )
    revision.status = Status.PROPOSED
    revision.proposed_on = proposed_on
    revision.full_clean()
    revision.save()
    return revision


@transaction.atomic
def revision_withdraw(*, revision: StrategyRevision) -> StrategyRevision:
    """Take a proposal back to draft, while no council has adopted it yet."""
    revision = StrategyRevision.objects.select_for_update().get(pk=revision.pk)
    if revision.status != Status.PROPOSED:
        raise ValidationError(
            _("Only a proposal can be withdrawn; %(revision)s is %(status)s.")
            % {"revision": revision.label, "status": revision.get_status_display()},
            code="not_proposed",
        )
    adopted = list(revision.adoptions.select_related("municipality"))
    if adopted:
        raise ValidationError(
            _("The proposal cannot be withdrawn: %(councils)s already adopted it.")
            % {"councils": ", ".join(str(a.municipality) for a in adopted)},
            code="already_adopted",
        )
    revision.status = Status.DRAFT
    revision.proposed_on = None
    revision.save()
    return revision


def adoption_problems(adoption: StrategyAdoption) -> dict[str, str]:
    """What is wrong with recording this adoption, by field; empty when it may be recorded."""
    problems: dict[str, str] = {}
    revision = adoption.revision if adoption.revision_id else None
    municipality = adoption.municipality if adoption.municipality_id else None
    if revision is None:
        return problems
    strategy = revision.strategy
    if revision.status == Status.DRAFT:
        problems["revision"] = _(
            "%(revision)s of %(slug)s has not been proposed to the councils yet."
        ) % {"revision": revision.label, "slug": strategy.slug}
    elif revision.status == Status.IN_FORCE and adoption.pk is None:
        problems["revision"] = _(
            "%(revision)s of %(slug)s is already in force and frozen; adoptions no longer change."
        ) % {"revision": revision.label, "slug": strategy.slug}
    if municipality is not None and not strategy.shares.filter(municipality=municipality).exists():
        problems["municipality"] = _(
            "%(municipality)s does not take part in the strategy %(slug)s; its council cannot "
            "adopt it."
        ) % {"municipality": municipality, "slug": strategy.slug}
    if adoption.date is not None:
        if revision.proposed_on and adoption.date < revision.proposed_on:
            problems["date"] = _(
                "The council cannot adopt it on %(date)s, before it was proposed on %(proposed)s."
            ) % {"date": _day(adoption.date), "proposed": _day(revision.proposed_on)}
        elif adoption.date > timezone.localdate():
            problems["date"] = _("The session date %(date)s is in the future.") % {
                "date": _day(adoption.date)
            }
    return problems


@transaction.atomic
def adoption_record(
    *,
    revision: StrategyRevision,
    municipality: Municipality,
    date: datetime.date,
    session: str,
    resolution_number: str,
) -> StrategyAdoption:
    """Record one council's adoption; the last one brings the revision into force."""
    revision = StrategyRevision.objects.select_for_update().get(pk=revision.pk)
    adoption = StrategyAdoption(
        revision=revision,
        municipality=municipality,
        date=date,
        session=session,
        resolution_number=resolution_number,
    )
    problems = adoption_problems(adoption)
    if problems:
        raise ValidationError(problems)
    adoption.full_clean()
    adoption.save()
    participants = set(revision.strategy.shares.values_list("municipality_id", flat=True))
    adopted = set(revision.adoptions.values_list("municipality_id", flat=True))
    if participants <= adopted:
        _bring_into_force(revision)
    return adoption


def _bring_into_force(revision: StrategyRevision) -> None:
    revision.status = Status.IN_FORCE
    revision.in_force_on = max(revision.adoptions.values_list("date", flat=True))
    revision.document = strategy_json(revision.strategy)
    revision.document_sha256 = sha256(revision.document)
    revision.frozen_at = timezone.now()
    # The annex is rendered from the frozen document, as a later regeneration renders it, so
    # that regenerating it gives the same bytes whatever has changed in the live strategy.
    rendered = revision_annex(revision)
    revision.annex_pdf = rendered.content
    revision.annex_pages = rendered.pages
    revision.annex_sha256 = sha256(rendered.content)
    revision.save()


def revision_annex(revision: StrategyRevision):
    """The annex of a revision rendered now (a RenderedPdf); a frozen one from its document."""
    # Documents are the reports app's; a frozen revision must hash its annex, so the import
    # is here, late, instead of making funding depend on reports at import time.
    from reports.annex import render_annex

    if not revision.is_frozen:
        return render_annex(revision.strategy, revision=revision)
    with frozen_strategy(revision) as strategy:
        return render_annex(strategy, revision=revision)


def revision_annex_pdf(revision: StrategyRevision) -> bytes:
    """The annex of a revision regenerated now, as PDF bytes."""
    return revision_annex(revision).content


@contextmanager
def frozen_strategy(revision: StrategyRevision) -> Iterator[FundingStrategy]:
    """The revision's document as adopted, as a temporary strategy that is never committed.

    The document is imported under a temporary slug inside a savepoint and rolled back on
    exit, so everything that reads a strategy (the cost-sharing engine, the annex) reads the
    adopted version without a second code path. Shared records (municipalities,
    associations, programmes) take the document's values only inside the savepoint.
    """
    # Import here: services imports this module's neighbours, not the other way round.
    from funding.services import strategy_import

    document = parse_strategy_document(revision.document)
    document = replace(document, slug=f"frozen-revision-{revision.pk}")
    with transaction.atomic():
        savepoint = transaction.savepoint()
        try:
            yield strategy_import(document=document)
        finally:
            transaction.savepoint_rollback(savepoint)
