"""What changed in a strategy since the councils adopted it, line by line and per municipality.

The adopted version is the frozen strategy/v1 document of the revision in force; the current
version is the live strategy. Both are split by the cost-sharing engine (the adopted one through
``funding.adoption.frozen_strategy``), so the per-municipality differences are differences of
the published tables, not re-computed shares of the difference.
"""

import json
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from funding.adoption import frozen_strategy
from funding.exchange import strategy_document
from funding.models import FundingStrategy, StrategyRevision
from reports.selectors import Column, cost_sharing_table

ZERO = Decimal("0.00")

# The texts of the annex, by their key in strategy/v1 and their name for the reader.
_TEXT_FIELDS = {
    "title": gettext_lazy("title"),
    "introduction": gettext_lazy("introduction"),
    "assessment": gettext_lazy("assessment and reasons"),
    "funding_rules": gettext_lazy("funding rules"),
    "key_source": gettext_lazy("source of the cost-sharing key"),
    "resolution_basis": gettext_lazy("legal basis of the resolution"),
}
_ASSOCIATION_TEXTS = {
    "presentation": gettext_lazy("presentation"),
    "funding_text": gettext_lazy("scope of co-funding"),
}


@dataclass(frozen=True)
class LineChange:
    """One budget line whose amount differs, with each municipality's difference."""

    association: str
    year: int
    category: str
    adopted: Decimal | None  # None: the line was added
    current: Decimal | None  # None: the line was removed
    cells: tuple[Decimal, ...]  # current minus adopted share, per municipality (table unit)

    @property
    def difference(self) -> Decimal:
        return (self.current or ZERO) - (self.adopted or ZERO)


@dataclass(frozen=True)
class YearTotals:
    """A year's grand total and municipality totals, adopted and current."""

    year: int
    adopted: Decimal
    current: Decimal
    adopted_cells: tuple[Decimal, ...]
    current_cells: tuple[Decimal, ...]

    @property
    def difference(self) -> Decimal:
        return self.current - self.adopted

    @property
    def cell_differences(self) -> tuple[Decimal, ...]:
        return tuple(c - a for a, c in zip(self.adopted_cells, self.current_cells, strict=True))


@dataclass(frozen=True)
class StrategyChanges:
    strategy: FundingStrategy
    revision: StrategyRevision
    columns: tuple[Column, ...]
    lines: tuple[LineChange, ...]
    years: tuple[YearTotals, ...]
    other: tuple[str, ...]  # changes outside the lines, as sentences

    @property
    def unchanged(self) -> bool:
        return not self.lines and not self.other


def adopted_revision(strategy: FundingStrategy) -> StrategyRevision | None:
    """The revision in force (the latest adopted one), or None before the first adoption."""
    return (
        strategy.revisions.filter(status=StrategyRevision.Status.IN_FORCE)
        .order_by("-number")
        .first()
    )


def strategy_changes(strategy: FundingStrategy, revision: StrategyRevision) -> StrategyChanges:
    """Compare the live strategy with a frozen revision of it."""
    adopted_doc = json.loads(revision.document)
    current_doc = strategy_document(strategy)
    adopted_lines = _lines(adopted_doc)
    current_lines = _lines(current_doc)
    changed = sorted(
        key
        for key in adopted_lines.keys() | current_lines.keys()
        if adopted_lines.get(key) != current_lines.get(key)
    )
    years = sorted({key[1] for key in changed})
    with frozen_strategy(revision) as frozen:
        adopted_tables = {year: _cells(cost_sharing_table(frozen, year)) for year in years}
    current_tables = {year: _cells(cost_sharing_table(strategy, year)) for year in years}
    columns = cost_sharing_table(strategy, strategy.start_year).columns
    names = {a["slug"]: a.get("short_name") or a["name"] for a in adopted_doc["associations"]}
    names.update({a["slug"]: a.get("short_name") or a["name"] for a in current_doc["associations"]})

    zeros = tuple(ZERO for _column in columns)
    lines = []
    for key in changed:
        association, year, category = key
        adopted_cells = adopted_tables[year]["rows"].get((association, category), zeros)
        current_cells = current_tables[year]["rows"].get((association, category), zeros)
        lines.append(
            LineChange(
                association=names.get(association, association),
                year=year,
                category=category,
                adopted=adopted_lines.get(key),
                current=current_lines.get(key),
                cells=tuple(c - a for a, c in zip(adopted_cells, current_cells, strict=True)),
            )
        )
    totals = tuple(
        YearTotals(
            year=year,
            adopted=adopted_tables[year]["total"],
            current=current_tables[year]["total"],
            adopted_cells=adopted_tables[year]["cells"],
            current_cells=current_tables[year]["cells"],
        )
        for year in years
    )
    return StrategyChanges(
        strategy=strategy,
        revision=revision,
        columns=columns,
        lines=tuple(lines),
        years=totals,
        other=tuple(_other_changes(adopted_doc, current_doc)),
    )


def _lines(document: dict) -> dict[tuple[str, int, str], Decimal]:
    return {
        (association["slug"], line["year"], line["category"]): Decimal(line["amount"])
        for association in document["associations"]
        for line in association["lines"]
    }


def _cells(table) -> dict:
    """A table's shown numbers: per (association, line label) the cells, and the totals."""
    return {
        "rows": {
            (row.association_slug, row.line): tuple(cell.figure.value for cell in row.cells)
            for row in table.rows
            if row.line is not None
        },
        "total": table.total.value,
        "cells": tuple(cell.figure.value for cell in table.total_cells),
    }


def _other_changes(adopted: dict, current: dict) -> list[str]:
    changes = []
    for key, name in _TEXT_FIELDS.items():
        if adopted.get(key, "") != current.get(key, ""):
            changes.append(_("The %(field)s has changed.") % {"field": name})
    adopted_key = {m["slug"]: (m["name"], m["share_percent"]) for m in adopted["municipalities"]}
    current_key = {m["slug"]: (m["name"], m["share_percent"]) for m in current["municipalities"]}
    for slug in sorted(adopted_key.keys() | current_key.keys()):
        before, after = adopted_key.get(slug), current_key.get(slug)
        if before == after:
            continue
        name = (after or before)[0]
        changes.append(
            _("Share of %(municipality)s: %(before)s → %(after)s.")
            % {
                "municipality": name,
                "before": f"{before[1]} %" if before else "—",
                "after": f"{after[1]} %" if after else "—",
            }
        )
    adopted_associations = {a["slug"]: a for a in adopted["associations"]}
    current_associations = {a["slug"]: a for a in current["associations"]}
    for slug in sorted(adopted_associations.keys() - current_associations.keys()):
        changes.append(
            _("Association removed: %(name)s.") % {"name": adopted_associations[slug]["name"]}
        )
    for slug in sorted(current_associations.keys() - adopted_associations.keys()):
        changes.append(
            _("Association added: %(name)s.") % {"name": current_associations[slug]["name"]}
        )
    for slug in sorted(adopted_associations.keys() & current_associations.keys()):
        before, after = adopted_associations[slug], current_associations[slug]
        for key, name in _ASSOCIATION_TEXTS.items():
            if before.get(key, "") != after.get(key, ""):
                changes.append(
                    _("%(association)s: the %(field)s has changed.")
                    % {"association": after["name"], "field": name}
                )
        if before.get("programmes") != after.get("programmes"):
            changes.append(
                _("%(association)s: the programmes have changed.") % {"association": after["name"]}
            )
    if adopted.get("in_kind_support") != current.get("in_kind_support"):
        changes.append(_("The in-kind support (footnotes) has changed."))
    if adopted.get("indexation_rates") != current.get("indexation_rates"):
        changes.append(_("The indexation rates have changed."))
    return changes
