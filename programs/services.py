"""Writes across the annual-report models: loading, status changes, council submissions."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from funding.imports import normalize_name
from funding.models import MunicipalBudgetItem, Municipality
from programs.models import (
    ActionPlan,
    Activity,
    ActivityInstitution,
    AnnualReport,
    Association,
    CouncilSubmission,
    Indicator,
    Institution,
    Objective,
    PlanChapter,
    PlanFunding,
    Programme,
    Project,
    ReportFunding,
    ReportSection,
    ReportSignatory,
    SubmissionSignatory,
    lead_count_error,
)

REPORTS_FORMAT = "annual-reports/v1"
ACTION_PLAN_FORMAT = "action-plan/v1"


def _saved(obj, *, constraints: bool = True):
    obj.full_clean(validate_constraints=constraints)
    obj.save()
    return obj


def _loaded(obj):
    """Save a demo record: every rule checked, constraints left to the database itself.

    Validating a CheckConstraint costs a query per constraint and row; the demo loader runs
    before many tests, and a broken fixture still fails, with an IntegrityError.
    """
    return _saved(obj, constraints=False)


def _loaded_under(obj, parent: str):
    """Save a demo record whose parent was just saved: every rule but the parent's existence.

    Checking a foreign key's target costs a query per row; the parent is the loader's own.
    """
    obj.full_clean(exclude=[parent], validate_constraints=False)
    obj.save()
    return obj


def _upsert(model, lookup: dict, values: dict):
    obj = model.objects.filter(**lookup).first() or model(**lookup)
    for name, value in values.items():
        setattr(obj, name, value)
    return _saved(obj)


def _date(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


@transaction.atomic
def annual_reports_load(*, document: dict) -> list[AnnualReport]:
    """Create or replace the associations, projects and annual reports of a demo document.

    The shape is ``fixtures/annual-reports.json`` (format ``annual-reports/v1``). Records are
    matched by their natural keys, and a report's sections, indicators, funding, signatories
    and council submissions are replaced, so loading twice duplicates nothing.
    """
    if document.get("format") != REPORTS_FORMAT:
        raise ValueError(f"expected format {REPORTS_FORMAT}, got {document.get('format')!r}")
    institutions = {
        entry["short_name"]: _upsert(
            Institution, {"short_name": entry["short_name"]}, {"name": entry["name"]}
        )
        for entry in document["institutions"]
    }
    for entry in document["municipalities"]:
        _upsert(Municipality, {"slug": entry["slug"]}, dict(entry))
    for entry in document["associations"]:
        _association_load(entry, institutions)
    return [_report_load(entry) for entry in document["reports"]]


def _association_load(entry: dict, institutions: dict) -> Association:
    association = _upsert(
        Association,
        {"slug": entry["slug"]},
        {
            "name": entry["name"],
            "short_name": entry["short_name"],
            "address": entry.get("address", ""),
        },
    )
    for position, programme in enumerate(entry.get("programmes", [])):
        _upsert(
            Programme,
            {"association": association, "name": programme["name"]},
            {
                "description": programme.get("description", ""),
                "start_year": programme.get("start_year"),
                "end_year": programme.get("end_year"),
                "locations": programme.get("locations", ""),
                "position": position,
            },
        )
    for position, doc in enumerate(entry.get("projects", [])):
        project = _upsert(
            Project,
            {"association": association, "name": doc["name"]},
            {
                "description": doc.get("description", ""),
                "start_date": _date(doc["start_date"]),
                "end_date": _date(doc["end_date"]),
                "lead_partner": institutions.get(doc.get("lead_partner")),
                "position": position,
            },
        )
        project.partners.set([institutions[short] for short in doc.get("partners", [])])
        project.funders.set([institutions[short] for short in doc.get("funders", [])])
    return association


def _report_load(entry: dict) -> AnnualReport:
    association = Association.objects.get(slug=entry["association"])
    programme = (
        association.programmes.get(name=entry["programme"]) if entry.get("programme") else None
    )
    lookup = {"association": association, "programme": programme, "year": entry["year"]}
    stored = AnnualReport.objects.filter(**lookup).first()
    if stored is not None and stored.is_published:
        return stored  # what councils read stays as they read it (programs.publication)
    report = _upsert(
        AnnualReport,
        lookup,
        {
            "title": entry["title"],
            "number": entry.get("number", ""),
            "date": _date(entry.get("date")),
            "prepared_by": entry.get("prepared_by", ""),
            **entry.get("people", {}),
            **entry.get("staff", {}),
        },
    )
    report.municipalities.set(Municipality.objects.filter(slug__in=entry["municipalities"]))
    report.budget_items.set(
        [
            MunicipalBudgetItem.objects.get(municipality__slug=slug, year=year, name=name)
            for slug, year, name in entry.get("budget_items", [])
        ]
    )
    report.projects.set(association.projects.filter(name__in=entry.get("projects", [])))
    for model in (ReportSection, ReportFunding, Indicator, ReportSignatory, CouncilSubmission):
        model.objects.filter(report=report).delete()
    for position, section in enumerate(entry.get("sections", [])):
        _loaded(ReportSection(report=report, position=position, **section))
    for position, source in enumerate(entry.get("funding", [])):
        _loaded(
            ReportFunding(
                report=report,
                position=position,
                source=source["source"],
                amount=_decimal(source.get("amount")),
                share_percent=_decimal(source.get("share_percent")),
                note=source.get("note", ""),
            )
        )
    for position, doc in enumerate(entry.get("indicators", [])):
        _loaded(
            Indicator(
                report=report,
                position=position,
                project=association.projects.get(name=doc["project"]) if "project" in doc else None,
                name=doc["name"],
                kind=doc["kind"],
                unit=doc["unit"],
                planned=_decimal(doc.get("planned")),
                achieved=Decimal(doc["achieved"]),
                achieved_by_association=_decimal(doc.get("achieved_by_association")),
            )
        )
    for position, (name, function) in enumerate(entry.get("signatories", [])):
        _loaded(ReportSignatory(report=report, position=position, name=name, function=function))
    # The status last: parts are added to a report before it is published, never after.
    report.status = entry.get("status", AnnualReport.Status.DRAFT)
    report.save(update_fields=["status"])
    for doc in entry.get("council_submissions", []):
        texts = {k: v for k, v in doc.items() if k not in ("signatories", "municipality", "date")}
        submission = _saved(
            CouncilSubmission(
                report=report,
                municipality=Municipality.objects.get(slug=doc["municipality"]),
                date=_date(doc.get("date")),
                **texts,
            )
        )
        for position, (name, function) in enumerate(doc.get("signatories", [])):
            _loaded(
                SubmissionSignatory(
                    submission=submission, position=position, name=name, function=function
                )
            )
    return report


NEXT_STATUS = {
    AnnualReport.Status.DRAFT: AnnualReport.Status.SUBMITTED,
    AnnualReport.Status.SUBMITTED: AnnualReport.Status.PUBLISHED,
}


@transaction.atomic
def report_advance(*, report: AnnualReport) -> AnnualReport:
    """Move a report one step on: draft → submitted → published.

    A report is checked in full before it leaves the draft, so nothing invalid reaches a council.
    """
    report = AnnualReport.objects.select_for_update().get(pk=report.pk)
    following = NEXT_STATUS.get(report.status)
    if following is None:
        raise ValidationError(
            _("“%(report)s” is already published; a published report does not change.")
            % {"report": report.title},
            code="already_published",
        )
    report.full_clean()
    for indicator in report.indicators.all():
        indicator.full_clean()
    if not report.municipalities.exists():
        raise ValidationError(
            _("“%(report)s” is not reported to any municipality; choose at least one.")
            % {"report": report.title},
            code="no_municipality",
        )
    report.status = following
    now = timezone.now()
    if following == AnnualReport.Status.SUBMITTED:
        report.submitted_at = now
    else:
        report.published_at = now
    report.save(update_fields=["status", "submitted_at", "published_at"])
    return report


def council_name(municipality: Municipality) -> str:
    """The council as a submission addresses it, from the municipality's official name.

    "Mestna občina Kranj" → "Svet Mestne občine Kranj"; "Občina Komen" → "Občinski svet
    Občine Komen". Other names are used as they are; the text stays editable.
    """
    name = municipality.name
    if name.startswith("Mestna občina "):
        return "Svet Mestne občine " + name.removeprefix("Mestna občina ")
    if name.startswith("Občina "):
        return "Občinski svet Občine " + name.removeprefix("Občina ")
    return name


def _council_dative(council: str) -> str:
    if council.startswith("Svet "):
        return "Svetu " + council.removeprefix("Svet ")
    if council.startswith("Občinski svet "):
        return "Občinskemu svetu " + council.removeprefix("Občinski svet ")
    return council


@transaction.atomic
def council_submission_create(
    *, report: AnnualReport, municipality: Municipality
) -> CouncilSubmission:
    """A council submission for the report, its texts filled in and ready to edit.

    The resolution takes note of the report, as Kranj's did: "Svet … se je seznanil s
    poročilom …". Refused when the report is not reported to the municipality.
    """
    council = council_name(municipality)
    subject = report.title
    if report.programme and str(report.year) not in subject:
        subject = _("%(programme)s – report for %(year)s") % {
            "programme": report.programme.name,
            "year": report.year,
        }
    submission = CouncilSubmission(
        report=report,
        municipality=municipality,
        council=council,
        subject=subject,
        body="\n\n".join(section.body for section in report.sections.all())
        or _("%(association)s has prepared the report “%(title)s”.")
        % {"association": report.association.name, "title": report.title},
        proposal=_("%(council)s is asked to adopt the following:")
        % {"council": _council_dative(council)},
        resolution=_("%(council)s has taken note of the report “%(title)s”.")
        % {"council": council, "title": report.title},
        attachments=_("Report"),
    )
    return _saved(submission)


@transaction.atomic
def action_plan_load(*, document: dict) -> ActionPlan:
    """Create or replace an action plan from a document of ``fixtures/action-plan-2019-2020.json``.

    The plan is matched by slug; its chapters (with objectives and activities) and funding
    are replaced, so loading twice duplicates nothing. Institutions are shared records
    matched by short name: missing ones are created, existing ones are left as they are.
    Every record's rules are checked before it is saved (an activity's half-years lie in the
    plan; its lead is the first institution named, the others partners, none named twice);
    the database holds the constraints, and any problem writes nothing.
    """
    if document.get("format") != ACTION_PLAN_FORMAT:
        raise ValueError(f"expected format {ACTION_PLAN_FORMAT}, got {document.get('format')!r}")
    known = Institution.objects.in_bulk(
        [entry["short_name"] for entry in document["institutions"]], field_name="short_name"
    )
    institutions = {
        entry["short_name"]: known.get(entry["short_name"]) or _saved(Institution(**entry))
        for entry in document["institutions"]
    }
    plan = _upsert(
        ActionPlan,
        {"slug": document["slug"]},
        {
            "title": document["title"],
            "start_year": document["start_year"],
            "end_year": document["end_year"],
            "issuer": document["issuer"],
            "introduction": document.get("introduction", ""),
            "stated_total": _decimal(document.get("stated_total")),
        },
    )
    plan.chapters.all().delete()
    plan.funding.all().delete()
    for position, entry in enumerate(document.get("funding", [])):
        funding = PlanFunding(
            plan=plan,
            funder=institutions[entry["funder"]],
            purpose=entry.get("purpose", ""),
            amount=Decimal(entry["amount"]),
            position=position,
        )
        _loaded_under(funding, "plan")
    responsible = []
    for position, entry in enumerate(document["chapters"]):
        chapter = _loaded_under(
            PlanChapter(plan=plan, title=entry["title"], position=position), "plan"
        )
        for objective_position, doc in enumerate(entry["objectives"]):
            objective = _loaded_under(
                Objective(chapter=chapter, text=doc["text"], position=objective_position),
                "chapter",
            )
            for activity_position, item in enumerate(doc["activities"]):
                activity = Activity(
                    objective=objective,
                    text=item["text"],
                    periods=item["periods"],
                    expected_results=item.get("expected_results", ""),
                    position=activity_position,
                )
                _loaded_under(activity, "objective")
                names = [item["lead"], *item.get("partners", [])]
                if len(set(names)) != len(names):
                    raise ValueError(f"{item['text']!r} names an institution twice: {names}")
                responsible += [
                    ActivityInstitution(
                        activity=activity,
                        institution=institutions[name],
                        is_lead=index == 0,
                        position=index,
                    )
                    for index, name in enumerate(names)
                ]
    ActivityInstitution.objects.bulk_create(responsible)
    return plan


@transaction.atomic
def activity_responsible_set(
    *, activity: Activity, lead: Institution | None, partners: list[Institution]
) -> list[ActivityInstitution]:
    """Make the lead and the partners, in order, the activity's responsible institutions.

    Refused unless there is exactly one lead; a partner that is also the lead, or named twice,
    counts once. Unchanged rows are kept, so setting the same institutions changes nothing.
    """
    error = lead_count_error(0 if lead is None else 1, activity=activity.text[:80])
    if error is not None:
        raise error
    wanted = [(lead, True)]
    for partner in partners:
        if all(partner != institution for institution, _lead in wanted):
            wanted.append((partner, False))
    existing = {row.institution_id: row for row in activity.responsible.all()}
    keep = {institution.pk for institution, _lead in wanted}
    activity.responsible.exclude(institution_id__in=keep).delete()
    # The lead may move from one institution to another: clear it first (one lead at a time).
    for row in existing.values():
        if row.is_lead and row.institution_id != lead.pk and row.institution_id in keep:
            row.is_lead = False
            row.save(update_fields=["is_lead"])
    rows = []
    for position, (institution, is_lead) in enumerate(wanted):
        row = existing.get(institution.pk)
        if row is None:
            row = _saved(
                ActivityInstitution(
                    activity=activity, institution=institution, is_lead=is_lead, position=position
                )
            )
        elif (row.is_lead, row.position) != (is_lead, position):
            row.is_lead, row.position = is_lead, position
            _saved(row)
        rows.append(row)
    # As Django's related managers do after a write: a prefetched list is stale now.
    getattr(activity, "_prefetched_objects_cache", {}).pop("responsible", None)
    return rows


@transaction.atomic
def activity_save(
    *,
    activity: Activity,
    plan: ActionPlan,
    chapter: str,
    objective: str,
    lead: Institution,
    partners: list[Institution] | None,
) -> Activity:
    """Save an activity with its institutions; a new one goes under its chapter and objective.

    The chapter and objective are matched by name within the plan (case, diacritics and
    spacing ignored) and created at the end when the plan does not have them yet. ``partners``
    None keeps the stored partners.
    """
    if activity.pk is None:
        activity.objective = _objective_ensure(plan=plan, chapter=chapter, objective=objective)
        activity.position = _next_position(activity.objective.activities.all())
    _saved(activity)
    if partners is None:
        partners = activity.partners
    activity_responsible_set(activity=activity, lead=lead, partners=partners)
    return activity


def _objective_ensure(*, plan: ActionPlan, chapter: str, objective: str) -> Objective:
    """The plan's objective of these names, created (with its chapter) when missing."""
    found_chapter = _named(plan.chapters.all(), "title", chapter)
    if found_chapter is None:
        position = _next_position(plan.chapters.all())
        found_chapter = _saved(PlanChapter(plan=plan, title=chapter, position=position))
    found = _named(found_chapter.objectives.all(), "text", objective)
    if found is None:
        position = _next_position(found_chapter.objectives.all())
        found = _saved(Objective(chapter=found_chapter, text=objective, position=position))
    return found


def _named(queryset, attribute: str, name: str):
    """The first row whose text equals the name, as import headers compare."""
    wanted = normalize_name(name)
    return next(
        (row for row in queryset if normalize_name(getattr(row, attribute)) == wanted), None
    )


def _next_position(queryset) -> int:
    return max((row.position for row in queryset), default=-1) + 1
