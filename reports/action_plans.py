"""Action plans (akcijski načrti) as documents: the plan in its table form, and its progress.

The plan reads like the national action plan on illicit drugs 2019–2020: grouped by the
chapters of the strategy it implements, one row per activity, the objective's cell spanning
its activities, an "X" in each half-year the activity runs in, the expected results and the
responsible institutions with the lead (nosilec) first and in bold. Consecutive activities of
an objective with the same expected results or the same institutions share one cell, as in
the original. The funding table adds up the funders' annual amounts; where the plan's text
states another total, the document says so with both figures.

The progress report gives each half-year an activity runs in its status (a half-year without a
record is planned) and note, with counts per status and the share done for the plan and each
chapter. Progress recorded after an activity's own half-years (a late activity still running)
is shown and counted too, as ``ActionPlan.progress_summary`` counts it.

Filtered by an institution, both keep only the activities it is responsible for and say whether
it leads them or is a partner ("what is the Ministry of Health responsible for?").
"""

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils.text import slugify

from funding.models import decimal_sum
from programs.models import (
    ActionPlan,
    Activity,
    ActivityInstitution,
    ActivityProgress,
    Institution,
    Objective,
    PlanChapter,
    PlanFunding,
)
from reports.annex import RenderedPdf, slovenian_order
from reports.annual import paragraphs
from reports.pdf import render_pdf_pages

Status = ActivityProgress.Status
LEAD = "lead"
PARTNER = "partner"


@dataclass(frozen=True)
class HalfYear:
    """One half-year column of an activity: whether it runs then and, if so, how it stands."""

    period: str
    scheduled: bool  # the activity runs then: an "X" in the plan
    status: str = ""  # an ActivityProgress.Status value; empty when neither scheduled nor recorded
    note: str = ""

    @property
    def status_label(self) -> str:
        return Status(self.status).label if self.status else ""


@dataclass(frozen=True)
class ActivityRow:
    """One activity as a table row.

    A rowspan of 0 means the cell above covers this row (same results or institutions).
    """

    activity: Activity
    text: tuple[str, ...]
    half_years: tuple[HalfYear, ...]
    results: tuple[str, ...]
    lead: Institution | None
    partners: tuple[Institution, ...]
    role: str = ""  # LEAD or PARTNER: the filtered institution's role
    results_rowspan: int = 1
    responsible_rowspan: int = 1


@dataclass(frozen=True)
class StatusSummary:
    """How many half-years of some activities stand in each status."""

    counts: tuple[tuple[str, str, int], ...]  # (status, label, count) in the statuses' order
    total: int

    @property
    def done(self) -> int:
        return next(count for status, _label, count in self.counts if status == Status.DONE)

    @property
    def percent_done(self) -> Decimal | None:
        """Done ÷ all counted half-years in %, two decimals half-up; None without any."""
        if not self.total:
            return None
        return (Decimal(self.done) * 100 / self.total).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class ObjectiveBlock:
    objective: Objective
    text: tuple[str, ...]
    rows: tuple[ActivityRow, ...]


@dataclass(frozen=True)
class ChapterBlock:
    chapter: PlanChapter
    objectives: tuple[ObjectiveBlock, ...]
    summary: StatusSummary

    @property
    def rows(self) -> list[ActivityRow]:
        return [row for block in self.objectives for row in block.rows]


@dataclass(frozen=True)
class FunderGroup:
    """A funder's entries in the funding table (ZZZS funds two purposes)."""

    funder: Institution
    entries: tuple[PlanFunding, ...]

    @property
    def total(self) -> Decimal:
        return decimal_sum(entry.amount for entry in self.entries)


@dataclass(frozen=True)
class PlanDocument:
    """Everything the plan's and the progress report's page and PDF show."""

    plan: ActionPlan
    periods: tuple[str, ...]
    introduction: tuple[str, ...]
    chapters: tuple[ChapterBlock, ...]
    funders: tuple[FunderGroup, ...]
    total: Decimal
    summary: StatusSummary
    # Every institution responsible for an activity of the plan: the filter's choices and
    # the abbreviations' key.
    institutions: tuple[Institution, ...]
    institution: Institution | None = None

    @property
    def total_differs(self) -> bool:
        """Whether the total the plan's text states is not what its funders' amounts add up to."""
        return self.plan.stated_total is not None and self.plan.stated_total != self.total

    @property
    def rows(self) -> list[ActivityRow]:
        return [row for chapter in self.chapters for row in chapter.rows]

    @property
    def lead_count(self) -> int:
        return sum(1 for row in self.rows if row.role == LEAD)

    @property
    def partner_count(self) -> int:
        return sum(1 for row in self.rows if row.role == PARTNER)

    @property
    def query(self) -> str:
        """The filter as a query string for links to the other formats ("" when unfiltered)."""
        if self.institution is None:
            return ""
        return "?" + urlencode({"institution": self.institution.short_name})


def lines(text: str) -> tuple[str, ...]:
    """A cell's text as typed, one entry a line ("Predlog sprememb …" / "Sprejetje v DZ")."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def find_institution(short_name: str) -> Institution | None:
    """The institution of an abbreviation as typed ("MZ", or "mz"), or None.

    A NUL character (``?institution=%00``) matches nothing; PostgreSQL would refuse the query.
    """
    if "\x00" in short_name:
        return None
    institutions = Institution.objects.all()
    return (
        institutions.filter(short_name=short_name).first()
        or institutions.filter(short_name__iexact=short_name).first()
    )


def _chapters(plan: ActionPlan) -> list[PlanChapter]:
    # Five queries whatever the plan's size: chapters, objectives, activities, their
    # institutions and their progress.
    activities = Activity.objects.prefetch_related(
        Prefetch("responsible", ActivityInstitution.objects.select_related("institution")),
        "progress",
    )
    objectives = Objective.objects.prefetch_related(Prefetch("activities", activities))
    return list(plan.chapters.prefetch_related(Prefetch("objectives", objectives)))


def _spans(keys: list) -> list[int]:
    """Rowspans merging runs of equal, non-empty consecutive values; 0 for a covered row."""
    spans = [1] * len(keys)
    start = 0
    for index in range(1, len(keys) + 1):
        if index < len(keys) and keys[index] and keys[index] == keys[start]:
            spans[index] = 0
            continue
        spans[start] = index - start
        start = index
    return spans


def _half_years(activity: Activity, periods: tuple[str, ...]) -> tuple[HalfYear, ...]:
    scheduled = set(activity.period_list)
    recorded = {progress.period: progress for progress in activity.progress.all()}
    cells = []
    for period in periods:
        progress = recorded.get(period)
        if progress is not None:
            cells.append(
                HalfYear(period, period in scheduled, progress.status, progress.note.strip())
            )
        elif period in scheduled:
            cells.append(HalfYear(period, scheduled=True, status=Status.PLANNED))
        else:
            cells.append(HalfYear(period, scheduled=False))
    return tuple(cells)


def _rows(
    activities, periods: tuple[str, ...], institution: Institution | None
) -> list[ActivityRow]:
    rows = []
    for activity in activities:
        role = ""
        if institution is not None:
            mine = [r for r in activity.responsible.all() if r.institution_id == institution.pk]
            if not mine:
                continue
            role = LEAD if mine[0].is_lead else PARTNER
        rows.append(
            ActivityRow(
                activity=activity,
                text=lines(activity.text),
                half_years=_half_years(activity, periods),
                results=lines(activity.expected_results),
                lead=activity.lead,
                partners=tuple(activity.partners),
                role=role,
            )
        )
    results_spans = _spans([row.results for row in rows])
    responsible_spans = _spans(
        [(row.lead, row.partners, row.role) if row.lead or row.partners else None for row in rows]
    )
    return [
        replace(row, results_rowspan=results, responsible_rowspan=responsible)
        for row, results, responsible in zip(rows, results_spans, responsible_spans, strict=True)
    ]


def status_summary(rows) -> StatusSummary:
    """Counts per status over the rows' half-years that are scheduled or recorded."""
    statuses = [cell.status for row in rows for cell in row.half_years if cell.status]
    counts = tuple((status.value, status.label, statuses.count(status)) for status in Status)
    return StatusSummary(counts=counts, total=len(statuses))


def action_plan_document(
    plan: ActionPlan, *, institution: Institution | None = None
) -> PlanDocument:
    """The plan's chapters, objectives and activities, its funding and progress.

    With an institution, only the activities it is responsible for (as lead or partner);
    chapters and objectives left without activities drop out.
    """
    periods = tuple(plan.periods)
    chapters = []
    responsible: dict[int, Institution] = {}
    for chapter in _chapters(plan):
        blocks = []
        for objective in chapter.objectives.all():
            activities = list(objective.activities.all())
            for activity in activities:
                for role in activity.responsible.all():
                    responsible[role.institution_id] = role.institution
            rows = _rows(activities, periods, institution)
            if rows:
                text = lines(objective.text)
                blocks.append(ObjectiveBlock(objective, text, tuple(rows)))
        if blocks or institution is None:
            rows = [row for block in blocks for row in block.rows]
            chapters.append(ChapterBlock(chapter, tuple(blocks), status_summary(rows)))
    funding = list(plan.funding.select_related("funder"))
    groups: dict[int, list[PlanFunding]] = {}
    for entry in funding:
        groups.setdefault(entry.funder_id, []).append(entry)
    funders = tuple(FunderGroup(entries[0].funder, tuple(entries)) for entries in groups.values())
    return PlanDocument(
        plan=plan,
        periods=periods,
        introduction=tuple(paragraphs(plan.introduction)),
        chapters=tuple(chapters),
        funders=funders,
        total=decimal_sum(entry.amount for entry in funding),
        summary=status_summary([row for chapter in chapters for row in chapter.rows]),
        institutions=tuple(
            sorted(responsible.values(), key=lambda i: slovenian_order(i.short_name.lower()))
        ),
        institution=institution,
    )


def action_plan_context(document: PlanDocument) -> dict:
    """What the plan's and the progress report's templates need."""
    own_funding = ()
    if document.institution is not None:
        own_funding = tuple(g for g in document.funders if g.funder.pk == document.institution.pk)
    return {
        "document": document,
        "plan": document.plan,
        "own_funding": own_funding,
        "abbreviations": abbreviations(document),
    }


def abbreviations(document: PlanDocument) -> list[Institution]:
    """The key to the short names the table prints, where the name says more."""
    shown = {
        institution.pk
        for row in document.rows
        for institution in (row.lead, *row.partners)
        if institution is not None
    }
    return [
        institution
        for institution in document.institutions
        if institution.pk in shown
        and institution.name
        and institution.name != institution.short_name
    ]


def _suffix(document: PlanDocument) -> str:
    if document.institution is None:
        return ""
    return "-" + (slugify(document.institution.short_name) or str(document.institution.pk))


def action_plan_filename(document: PlanDocument) -> str:
    return f"{document.plan.slug}{_suffix(document)}.pdf"


def progress_filename(document: PlanDocument) -> str:
    return f"{document.plan.slug}-napredek{_suffix(document)}.pdf"


def render_action_plan(document: PlanDocument) -> RenderedPdf:
    """The plan as PDF: A4 landscape, the title on every page, "Page X/Y"."""
    html = render_to_string("reports/action_plan_document.html", action_plan_context(document))
    content, pages = render_pdf_pages(html)
    return RenderedPdf(content, pages, action_plan_filename(document))


def render_action_plan_progress(document: PlanDocument) -> RenderedPdf:
    """The progress report as PDF, in the plan's layout."""
    html = render_to_string(
        "reports/action_plan_progress_document.html", action_plan_context(document)
    )
    content, pages = render_pdf_pages(html)
    return RenderedPdf(content, pages, progress_filename(document))
