"""Writes across the annual-report models: loading, status changes, council submissions."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from funding.models import MunicipalBudgetItem, Municipality
from programs.models import (
    AnnualReport,
    Association,
    CouncilSubmission,
    Indicator,
    Institution,
    Programme,
    Project,
    ReportFunding,
    ReportSection,
    ReportSignatory,
    SubmissionSignatory,
)

REPORTS_FORMAT = "annual-reports/v1"


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
    report = _upsert(
        AnnualReport,
        {"association": association, "programme": programme, "year": entry["year"]},
        {
            "title": entry["title"],
            "status": entry.get("status", AnnualReport.Status.DRAFT),
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
