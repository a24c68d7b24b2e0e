"""A published annual report is what councils read: neither it nor anything it shows changes.

A published report shows its own parts (narrative sections, indicators, funding sources,
signatories), its projects (with their partners and funders, and the projects its indicators
belong to), and its municipal budget items' realisation tables: each item, its allocations,
the reallocations out of it (named by their target item) and into it, and the realisation the
report states. ``published_lock_reason`` says which of these a row is; every write path meets
it:

- admin pages ask ``funding.locks.lock_reason`` (where this check is registered) to show the
  row read-only with the reason and to refuse its deletion, also in a cascade;
- ``save()`` and ``delete()`` of every such model, the bulk "delete selected" action, cascades
  and changes of the report's links are refused by the signal receivers below (Django's
  deletion collector sends ``pre_delete`` for every row it deletes, also for
  ``QuerySet.delete``).

Saving a row unchanged is not a change: loaders that update records in place pass.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed, pre_delete, pre_save
from django.utils.translation import gettext as _

from funding.locks import lock_register
from funding.models import Allocation, MunicipalBudgetItem, Reallocation, StatedRealisation
from programs.models import (
    AnnualReport,
    Indicator,
    Project,
    ReportFunding,
    ReportSection,
    ReportSignatory,
)

PUBLISHED = AnnualReport.Status.PUBLISHED


def _published(**lookups) -> models.QuerySet[AnnualReport]:
    """Published reports linked by any of the lookups; a lookup of no row (None) links none."""
    condition = Q()
    for lookup, value in lookups.items():
        if value is not None:
            condition |= Q(**{lookup: value})
    if not condition:
        return AnnualReport.objects.none()
    return AnnualReport.objects.filter(condition, status=PUBLISHED).distinct()


def _showing_report_part(obj) -> models.QuerySet[AnnualReport]:
    return _published(pk=obj.report_id)


# Which published reports show a row, from the row's own ids. A realisation table shows its
# item, the item's allocations, stated realisation and reallocations, and names the items
# money was reallocated to.
_SHOWN_BY = {
    AnnualReport: lambda report: _published(pk=report.pk),
    ReportSection: _showing_report_part,
    ReportFunding: _showing_report_part,
    Indicator: _showing_report_part,
    ReportSignatory: _showing_report_part,
    Project: lambda project: _published(projects=project.pk, indicators__project=project.pk),
    MunicipalBudgetItem: lambda item: _published(
        budget_items=item.pk, budget_items__reallocations_out__target=item.pk
    ),
    Allocation: lambda allocation: _published(budget_items=allocation.item_id),
    StatedRealisation: lambda stated: _published(budget_items=stated.item_id),
    Reallocation: lambda move: _published(
        budget_items__in=[pk for pk in (move.source_id, move.target_id) if pk] or None
    ),
}


def published_reports_showing(obj) -> models.QuerySet[AnnualReport]:
    """The published reports that show the row, as its fields stand."""
    shown_by = _SHOWN_BY.get(type(obj))
    if shown_by is None:
        return AnnualReport.objects.none()
    return shown_by(obj)


def published_lock_reason(obj) -> str | None:
    """Why the row may not change: the published report that shows it; None when none does."""
    report = published_reports_showing(obj).order_by("pk").first()
    if report is None:
        return None
    if isinstance(obj, AnnualReport):
        return _("“%(report)s” is already published; a published report does not change.") % {
            "report": report.title
        }
    return _(
        "“%(record)s” is part of the published report “%(report)s”; a published report "
        "does not change."
    ) % {"record": str(obj)[:120], "report": report.title}


def refuse_if_published(obj) -> None:
    """Raise a ValidationError when a published report shows the row."""
    reason = published_lock_reason(obj)
    if reason:
        raise ValidationError(reason, code="published")


def _stored(obj):
    if obj.pk is None:
        return None
    return type(obj)._base_manager.filter(pk=obj.pk).first()


def _unchanged(obj, stored) -> bool:
    return all(
        getattr(obj, field.attname) == getattr(stored, field.attname)
        for field in obj._meta.concrete_fields
    )


def _refuse_save(sender, instance, raw=False, **kwargs):
    # Raw saves are restores of a whole database (funding.backup, loaddata), not changes.
    if raw:
        return
    stored = _stored(instance)
    if stored is not None:
        if _unchanged(instance, stored):
            return
        refuse_if_published(stored)  # what it was: a part may not leave a published report
    if not isinstance(instance, AnnualReport):
        refuse_if_published(instance)  # what it becomes: nor may a part join one


def _refuse_delete(sender, instance, **kwargs):
    refuse_if_published(instance)


def _refuse_report_links(sender, instance, action, reverse, model, pk_set, **kwargs):
    """The report's projects, budget items and municipalities are fixed once it is published."""
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if not reverse:
        refuse_if_published(instance)
        return
    # From the other side (project.annual_reports.add(…)): the reports named, or all linked.
    reports = model.objects.filter(pk__in=pk_set) if pk_set else instance.annual_reports.all()
    report = reports.filter(status=PUBLISHED).first()
    if report is not None:
        refuse_if_published(report)


def _refuse_project_links(sender, instance, action, reverse, model, pk_set, **kwargs):
    """A published report lists its projects' partners and funders."""
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if not reverse:
        refuse_if_published(instance)
        return
    projects = model.objects.filter(pk__in=pk_set) if pk_set else model.objects.none()
    if action == "pre_clear":
        projects = instance.partner_projects.all() | instance.funded_projects.all()
    for project in projects:
        refuse_if_published(project)


def publication_locks_connect() -> None:
    """Connect the receivers and register the check with funding.locks (ProgramsConfig.ready)."""
    lock_register(published_lock_reason)
    for model in _SHOWN_BY:
        pre_save.connect(_refuse_save, sender=model, dispatch_uid=f"published-save-{model}")
        pre_delete.connect(_refuse_delete, sender=model, dispatch_uid=f"published-del-{model}")
    for field in (AnnualReport.projects, AnnualReport.budget_items, AnnualReport.municipalities):
        m2m_changed.connect(
            _refuse_report_links, sender=field.through, dispatch_uid=f"published-{field.field}"
        )
    for field in (Project.partners, Project.funders):
        m2m_changed.connect(
            _refuse_project_links, sender=field.through, dispatch_uid=f"published-{field.field}"
        )
