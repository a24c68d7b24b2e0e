"""Spreadsheet import of action-plan activities: the whole file is checked before any write.

Reading the file, the header, cells and per-row plans are ``funding.imports``' own; the resource
in ``programs.resources`` (admin and ``import_activities``) writes a plan only when no row has a
problem, in one transaction.

Rules:
- Columns ``načrt`` (the plan's slug or title), ``poglavje``, ``cilj``, ``aktivnost``,
  ``obdobja`` (half-years such as "2019-2 2020-1", separated by spaces or commas),
  ``pričakovani rezultati`` (optional), ``nosilec`` (the lead institution's short name) and
  ``partnerji`` (optional: short names separated by ";" or "|" or line breaks within the cell).
- An activity is identified by plan + chapter + objective + activity text (case, diacritics
  and spacing ignored); the same activity twice in a file is an error. A chapter or objective
  the plan does not have yet is created; the plan must exist.
- A row creates the activity, updates its half-years, results and institutions, or leaves it
  unchanged. Activities the file does not name stay as they are.
- Half-years must be well formed, lie in the plan's period and appear once; every activity has
  exactly one lead; institutions must be in the register (matched by short name), and one
  institution is named once per activity. Unknown values are refused, quoting them.
- Importing takes the rights to add and change activities and to read the plans; a system
  import may write anything.
"""

import re
from dataclasses import dataclass

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

from funding.imports import (
    Cell,
    Column,
    ImportFileError,
    ImportPlan,
    RowPlan,
    _attempt,
    _Cells,
    _empty,
    _plan_rows,
    _rows_to_plan,
    cell_text,
    is_blank,
    normalize_name,
    parse_text,
)
from programs.models import ActionPlan, Activity, Institution, parse_periods

ACTIVITY_COLUMNS = (
    Column("plan", "načrt", ("plan", "action plan", "akcijski načrt")),
    Column("chapter", "poglavje", ("chapter", "poglavje iz strategije")),
    Column("objective", "cilj", ("objective", "konkretni cilj")),
    Column("text", "aktivnost", ("activity", "izvedbena aktivnost")),
    Column("periods", "obdobja", ("periods", "half-years", "polletja", "časovno obdobje")),
    Column(
        "expected_results",
        "pričakovani rezultati",
        ("expected results", "expected_results", "rezultati"),
        required=False,
    ),
    Column("lead", "nosilec", ("lead", "lead institution", "nosilna institucija")),
    Column("partners", "partnerji", ("partners",), required=False),
)
PARTNER_SEPARATORS = re.compile(r"[;|\n]")


class _ActivityLookups:
    """The plans, institutions and existing activities the file refers to, loaded once."""

    def __init__(self, cells: list[_Cells], *, user, as_system: bool):
        if not as_system:
            if user is None:
                raise ValueError("An import needs the importing user, or as_system=True.")
            # Reading the plans too: the rows' refusals would otherwise tell which plans exist.
            if not user.has_perms(
                ["programs.add_activity", "programs.change_activity", "programs.view_actionplan"]
            ):
                raise ImportFileError([_("You may not import activities of action plans.")])
        self.plans: dict[str, ActionPlan] = {}
        for plan in ActionPlan.objects.all():
            self.plans[normalize_name(plan.slug)] = plan
            self.plans.setdefault(normalize_name(plan.title), plan)
        self.institutions = {
            normalize_name(institution.short_name): institution
            for institution in Institution.objects.all()
        }
        named = {
            plan.pk for c in cells if (plan := self.plans.get(normalize_name(cell_text(c["plan"]))))
        }
        self.activities: dict[tuple, Activity] = {}
        activities = (
            Activity.objects.filter(objective__chapter__plan__in=named)
            .select_related("objective__chapter")
            .prefetch_related("responsible__institution")
        )
        for activity in activities:
            objective = activity.objective
            key = (
                objective.chapter.plan_id,
                normalize_name(objective.chapter.title),
                normalize_name(objective.text),
                normalize_name(activity.text),
            )
            self.activities[key] = activity


@dataclass(frozen=True)
class ActivityRow:
    """What one row writes: the activity's place by name, its values and institutions."""

    plan: ActionPlan
    chapter: str
    objective: str
    text: str
    periods: str
    expected_results: str | None  # None: the file has no such column, keep what is stored
    lead: Institution
    partners: tuple[Institution, ...] | None  # None: no such column, keep the stored ones


def plan_activity_import(dataset: tablib.Dataset, *, user=None, as_system=False) -> ImportPlan:
    """Check a file of activities and say what each row does; nothing is written."""
    header, all_cells, lookups = _plan_rows(
        dataset, ACTIVITY_COLUMNS, user=user, as_system=as_system, lookups=_ActivityLookups
    )
    plan = ImportPlan(header, [])
    first_line_of: dict[tuple, int] = {}
    for cells, row in _rows_to_plan(all_cells, plan):
        action_plan = _read_plan(cells["plan"], row, lookups)
        chapter = _attempt(row, "chapter", _parse_chapter, cells["chapter"])
        objective = _attempt(row, "objective", _parse_required, cells["objective"])
        text = _attempt(row, "text", _parse_required, cells["text"])
        periods = _read_periods(cells["periods"], action_plan, row)
        results = (
            _attempt(row, "expected_results", parse_text, cells["expected_results"])
            if cells.has("expected_results")
            else None
        )
        lead = _read_lead(cells["lead"], row, lookups)
        partners = _read_partners(cells, row, lookups, lead) if cells.has("partners") else None
        if row.problems:
            continue
        place = (action_plan.pk, normalize_name(chapter), normalize_name(objective))
        key = (*place, normalize_name(text))
        if key in first_line_of:
            row.fail(
                NON_FIELD_ERRORS,
                cells["text"].error(
                    _(
                        "Line %(line)d repeats line %(first)d: the activity “%(value)s” "
                        "appears twice in the same objective."
                    ),
                    first=first_line_of[key],
                ),
            )
            continue
        first_line_of[key] = row.line
        row.values = {
            "row": ActivityRow(
                action_plan, chapter, objective, text, periods, results, lead, partners
            )
        }
        existing = lookups.activities.get(key)
        if existing is not None:
            row.instance = existing
            row.unchanged = _unchanged(existing, row.values["row"])
    return plan


def _unchanged(activity: Activity, row: ActivityRow) -> bool:
    stored = [(r.institution_id, r.is_lead) for r in activity.responsible.all()]
    partners = (
        [(i, lead) for i, lead in stored if not lead]
        if row.partners is None
        else [(p.pk, False) for p in row.partners]
    )
    return (
        activity.periods == row.periods
        and (row.expected_results is None or activity.expected_results == row.expected_results)
        and stored == [(row.lead.pk, True), *partners]
    )


def _parse_chapter(cell: Cell) -> str:
    return parse_text(cell, max_length=200, required=True)


def _parse_required(cell: Cell) -> str:
    return parse_text(cell, required=True)


def _read_plan(cell: Cell, row: RowPlan, lookups: _ActivityLookups) -> ActionPlan | None:
    if is_blank(cell.value):
        row.fail("plan", _empty(cell))
        return None
    plan = lookups.plans.get(normalize_name(cell_text(cell)))
    if plan is None:
        row.fail(
            "plan",
            cell.error(
                _(
                    "Line %(line)d, column “%(column)s”: there is no action plan “%(value)s”; "
                    "give its slug or title."
                )
            ),
        )
    return plan


def _read_periods(cell: Cell, plan: ActionPlan | None, row: RowPlan) -> str | None:
    if is_blank(cell.value):
        row.fail("periods", _empty(cell))
        return None
    if plan is None:
        return None
    try:
        return " ".join(parse_periods(cell_text(cell), plan=plan))
    except ValidationError as error:
        row.fail(
            "periods",
            _("Line %(line)d, column “%(column)s”: %(problems)s")
            % {"line": cell.line, "column": cell.column, "problems": " ".join(error.messages)},
        )
        return None


def _read_lead(cell: Cell, row: RowPlan, lookups: _ActivityLookups) -> Institution | None:
    if is_blank(cell.value):
        row.fail(
            "lead",
            cell.error(
                _(
                    "Line %(line)d, column “%(column)s”: the activity has no lead institution; "
                    "name exactly one by its short name."
                )
            ),
        )
        return None
    return _institution(cell, row, "lead", lookups)


def _institution(cell: Cell, row: RowPlan, name: str, lookups) -> Institution | None:
    institution = lookups.institutions.get(normalize_name(cell_text(cell)))
    if institution is None:
        row.fail(
            name,
            cell.error(
                _(
                    "Line %(line)d, column “%(column)s”: there is no institution “%(value)s”; "
                    "give its short name as the register of institutions has it."
                )
            ),
        )
    return institution


def _read_partners(cells: _Cells, row: RowPlan, lookups, lead) -> tuple[Institution, ...]:
    cell = cells["partners"]
    partners: list[Institution] = []
    for name in PARTNER_SEPARATORS.split(cell_text(cell)):
        if not name.strip():
            continue
        part = Cell(cell.line, cell.column, name.strip())
        institution = _institution(part, row, "partners", lookups)
        if institution is None:
            continue
        if institution == lead or institution in partners:
            row.fail(
                "partners",
                part.error(
                    _(
                        "Line %(line)d, column “%(column)s”: “%(value)s” is named twice among "
                        "the activity's institutions; name each one once."
                    )
                ),
            )
            continue
        partners.append(institution)
    return tuple(partners)
