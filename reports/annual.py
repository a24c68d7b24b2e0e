"""Annual reports and council submissions as documents: what they show, and their PDF.

Every figure is computed from the data: the realisation table sums its rows, achievement is
achieved ÷ planned, and the charts draw the same numbers the tables print.
"""

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from funding.models import decimal_sum
from funding.realisation import Realisation, item_realisation
from programs.models import AnnualReport, CouncilSubmission, Indicator, Project
from reports.charts import Bar, PairedBar, horizontal_bar_chart, planned_vs_achieved_chart
from reports.pdf import render_pdf


@dataclass(frozen=True)
class Figure:
    """One labelled count of a report (people reached, staff)."""

    label: str
    value: int


@dataclass(frozen=True)
class IndicatorGroup:
    """The indicators of one project (or of the report itself when project is None)."""

    project: Project | None
    indicators: tuple[Indicator, ...]

    @property
    def has_targets(self) -> bool:
        """Whether any indicator has a planned value; without one the columns stay out."""
        return any(indicator.planned is not None for indicator in self.indicators)


def paragraphs(text: str) -> list[str]:
    """A text's paragraphs: separated by an empty line, single line breaks kept as spaces."""
    return [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]


def people_figures(report: AnnualReport) -> list[Figure]:
    pairs = [
        (_("Users"), report.users),
        (_("of them women"), report.users_women),
        (_("of them men"), report.users_men),
        (_("Parents and relatives"), report.relatives),
        (_("First contacts with users"), report.first_contacts_users),
        (_("First contacts with parents and relatives"), report.first_contacts_relatives),
        (_("Meetings and events"), report.events),
    ]
    return [Figure(label, value) for label, value in pairs if value is not None]


def staff_figures(report: AnnualReport) -> list[Figure]:
    pairs = [
        (_("Professional staff"), report.professionals),
        (_("Public-works staff"), report.public_workers),
        (_("Volunteers"), report.volunteers),
    ]
    return [Figure(label, value) for label, value in pairs if value is not None]


def indicator_groups(report: AnnualReport) -> list[IndicatorGroup]:
    """Indicators grouped by project in the report's order; the report's own ones last."""
    groups: dict[int | None, list[Indicator]] = {}
    projects: dict[int | None, Project | None] = {None: None}
    for indicator in report.indicators.select_related("project"):
        groups.setdefault(indicator.project_id, []).append(indicator)
        projects[indicator.project_id] = indicator.project
    ordered = sorted(groups, key=lambda key: (key is None, projects[key].position if key else 0))
    return [IndicatorGroup(projects[key], tuple(groups[key])) for key in ordered]


def indicator_chart(report: AnnualReport):
    """Planned against achieved, for the indicators that have a target."""
    bars = [
        PairedBar(i.name, i.planned, i.achieved, i.unit_suffix)
        for i in report.indicators.all()
        if i.planned is not None
    ]
    return planned_vs_achieved_chart(bars, title=_("Indicators: planned and achieved"))


def realisation_chart(realisation: Realisation):
    bars = [Bar(row.recipient, row.amount) for row in realisation.rows]
    return horizontal_bar_chart(
        bars,
        title=_("Realisation by programme: %(item)s") % {"item": realisation.item.name},
        unit_label="EUR",
    )


def annual_report_context(report: AnnualReport) -> dict:
    """Everything the page and the PDF of a report show."""
    realisations = [
        item_realisation(item)
        for item in report.budget_items.select_related(
            "municipality", "stated_realisation"
        ).prefetch_related("allocations", "reallocations_out__target", "reallocations_in")
    ]
    funding = list(report.funding.all())
    amounts = [source.amount for source in funding if source.amount is not None]
    return {
        "report": report,
        "sections": [
            {"heading": section.heading, "paragraphs": paragraphs(section.body)}
            for section in report.sections.all()
        ],
        "people": people_figures(report),
        "staff": staff_figures(report),
        "indicator_groups": indicator_groups(report),
        "indicator_chart": indicator_chart(report),
        "realisations": [
            {
                "realisation": realisation,
                "chart": realisation_chart(realisation),
                "reallocations": list(realisation.item.reallocations_out.all()),
            }
            for realisation in realisations
        ],
        "funding": funding,
        "funding_total": decimal_sum(amounts) if amounts else None,
        "projects": list(
            report.projects.select_related("lead_partner").prefetch_related("partners", "funders")
        ),
        "signatories": list(report.signatories.all()),
        "prepared_by": report.prepared_by.splitlines(),
    }


def annual_report_filename(report: AnnualReport, extension: str) -> str:
    return f"porocilo-{report.association.slug}-{report.year}.{extension}"


def render_annual_report_pdf(report: AnnualReport) -> bytes:
    html = render_to_string("reports/annual_report_document.html", annual_report_context(report))
    return render_pdf(html)


def council_submission_context(submission: CouncilSubmission) -> dict:
    report = submission.report
    funding = list(report.funding.all())
    return {
        "submission": submission,
        "report": report,
        "paragraphs": paragraphs(submission.body),
        "resolution": paragraphs(submission.resolution),
        "people": people_figures(report) if submission.include_figures else [],
        "staff": staff_figures(report) if submission.include_figures else [],
        "funding": funding if submission.include_figures else [],
        "prepared_by": submission.prepared_by.splitlines(),
        "signatories": list(submission.signatories.all()),
        "attachments": [line for line in submission.attachments.splitlines() if line.strip()],
    }


def council_submission_filename(submission: CouncilSubmission) -> str:
    return (
        f"gradivo-{submission.municipality.slug}-{submission.report.association.slug}-"
        f"{submission.report.year}.pdf"
    )


def render_council_submission_pdf(submission: CouncilSubmission) -> bytes:
    html = render_to_string(
        "reports/council_submission_document.html", council_submission_context(submission)
    )
    return render_pdf(html)
