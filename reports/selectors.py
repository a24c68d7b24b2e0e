"""Reads that documents need: the cost-sharing table of a strategy and year.

The table is computed by the apportionment engine from the budget lines, so it adds up in
every row and column; this module only loads the data (a fixed number of queries, whatever
the number of municipalities, associations or lines) and labels the engine's numbers.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NamedTuple

from django.utils.translation import gettext as _

from funding.apportionment import Figure, Node, apportion
from funding.models import BudgetCategory, FundingStrategy
from funding.permissions import readable_strategies
from programs.permissions import readable_reports


@dataclass(frozen=True)
class Column:
    """A municipality of the key, in the table's column order."""

    slug: str
    name: str
    short_name: str
    share_percent: Decimal


class Cell(NamedTuple):
    """A municipality's share in a row, with the footnote marker of its in-kind support.

    A named tuple because a large table has 58,000 of them (a frozen dataclass is slower).
    """

    figure: Figure
    marker: str = ""


@dataclass(frozen=True)
class TableRow:
    """An association's row (``line`` None) or one of its lines."""

    association_slug: str
    association_name: str
    line: str | None  # the category's Slovenian label (exchange format), None on the association
    label: str
    total: Figure
    cells: tuple[Cell, ...]

    @property
    def is_association(self) -> bool:
        return self.line is None


@dataclass(frozen=True)
class Footnote:
    marker: str
    municipality_slug: str
    text: str


@dataclass(frozen=True)
class Adjusted:
    """A number that differs from half-up rounding of its exact value, with its place."""

    association_slug: str | None  # None on the grand-total row
    association_name: str | None
    line: str | None
    municipality_slug: str | None  # None in the total column
    municipality_name: str | None
    exact: Decimal
    value: Decimal
    half_up: Decimal


@dataclass(frozen=True)
class CostSharingTable:
    """Section 4 of a strategy for one year: every association and line split by the key."""

    strategy: FundingStrategy
    year: int
    unit: Decimal
    columns: tuple[Column, ...]
    rows: tuple[TableRow, ...]
    total: Figure
    total_cells: tuple[Cell, ...]
    footnotes: tuple[Footnote, ...]
    adjusted: tuple[Adjusted, ...]
    municipality: Column | None = None

    def for_municipality(self, slug: str) -> "CostSharingTable":
        """One municipality's annex: its column of this very table, its footnotes."""
        index = next(i for i, column in enumerate(self.columns) if column.slug == slug)
        return replace(
            self,
            columns=(self.columns[index],),
            rows=tuple(replace(row, cells=(row.cells[index],)) for row in self.rows),
            total_cells=(self.total_cells[index],),
            footnotes=tuple(f for f in self.footnotes if f.municipality_slug == slug),
            adjusted=tuple(a for a in self.adjusted if a.municipality_slug in (slug, None)),
            municipality=self.columns[index],
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large table is built.

    A table of 30 municipalities and 1,500 lines creates 200,000 small objects, none in a
    cycle; the collector kept scanning them and took a third of the time (160 ms of 485).
    Reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def cost_sharing_table(strategy: FundingStrategy, year: int) -> CostSharingTable:
    """The joint cost-sharing table of a strategy for a year (five queries)."""
    with collector_paused():
        return _cost_sharing_table(strategy, year)


def _cost_sharing_table(strategy: FundingStrategy, year: int) -> CostSharingTable:
    shares = list(strategy.shares.select_related("municipality").order_by("position", "id"))
    memberships = list(
        strategy.strategy_associations.select_related("association").order_by("position", "id")
    )
    lines_by_association: dict[int, list] = {}
    for line in strategy.lines.filter(year=year):
        lines_by_association.setdefault(line.association_id, []).append(line)
    supports = list(
        strategy.in_kind_support.select_related("municipality", "association").order_by(
            "position", "id"
        )
    )

    columns = tuple(
        Column(
            slug=share.municipality.slug,
            name=share.municipality.name,
            short_name=share.municipality.short_name,
            share_percent=share.share_percent,
        )
        for share in shares
    )
    category_index = {category.value: i for i, category in enumerate(BudgetCategory)}
    nodes, names, labels = [], {}, {}
    for membership in memberships:
        association = membership.association
        names[association.slug] = association.short_name
        lines = sorted(
            lines_by_association.get(association.id, []),
            key=lambda line: category_index[line.category],
        )
        children = []
        for line in lines:
            labels[(association.slug, line.category)] = line.exchange_category
            children.append(Node(key=line.category, amount=line.amount))
        nodes.append(Node(key=association.slug, children=tuple(children)))

    unit = strategy.rounding_unit_decimal
    table = apportion(nodes, [column.share_percent for column in columns], unit)

    column_index = {column.slug: i for i, column in enumerate(columns)}
    markers: dict[tuple[str, int], str] = {}
    footnotes = []
    for number, support in enumerate(supports, start=1):
        marker = "*" * number
        markers[(support.association.slug, column_index.get(support.municipality.slug))] = marker
        footnotes.append(
            Footnote(
                marker=marker, municipality_slug=support.municipality.slug, text=support.description
            )
        )

    rows = []
    for row in table.rows:
        association_slug = row.path[0]
        category = row.path[1] if len(row.path) > 1 else None
        line_label = labels[(association_slug, category)] if category else None
        rows.append(
            TableRow(
                association_slug=association_slug,
                association_name=names[association_slug],
                line=line_label,
                label=line_label or names[association_slug],
                total=row.total,
                cells=tuple(
                    Cell(
                        figure=figure,
                        marker="" if category else markers.get((association_slug, i), ""),
                    )
                    for i, figure in enumerate(row.shares)
                ),
            )
        )

    adjusted = []
    for adjustment in table.adjustments():
        association_slug = adjustment.path[0] if adjustment.path else None
        category = adjustment.path[1] if len(adjustment.path) > 1 else None
        column = columns[adjustment.column] if adjustment.column is not None else None
        adjusted.append(
            Adjusted(
                association_slug=association_slug,
                association_name=names.get(association_slug),
                line=labels[(association_slug, category)] if category else None,
                municipality_slug=column.slug if column else None,
                municipality_name=column.name if column else None,
                exact=adjustment.exact,
                value=adjustment.value,
                half_up=adjustment.half_up,
            )
        )

    return CostSharingTable(
        strategy=strategy,
        year=year,
        unit=unit,
        columns=columns,
        rows=tuple(rows),
        total=table.total.total,
        total_cells=tuple(Cell(figure=figure) for figure in table.total.shares),
        footnotes=tuple(footnotes),
        adjusted=tuple(adjusted),
    )


def grand_total_label() -> str:
    return _("TOTAL OF MUNICIPALITIES")


@dataclass(frozen=True)
class YearDocuments:
    """What the reports index lists for one year."""

    year: int
    reports: tuple
    strategies: tuple


def documents_by_year(user) -> list[YearDocuments]:
    """The user's readable annual reports and cost-sharing tables, newest year first.

    Council members see published reports only; the roles that write reports also see
    drafts and submitted ones (``programs.permissions``).
    """
    reports: dict[int, list] = {}
    for report in readable_reports(user).select_related("association").order_by("title"):
        reports.setdefault(report.year, []).append(report)
    strategies: dict[int, list] = {}
    for strategy in readable_strategies(user).order_by("title"):
        for year in strategy.years:
            strategies.setdefault(year, []).append(strategy)
    return [
        YearDocuments(year, tuple(reports.get(year, ())), tuple(strategies.get(year, ())))
        for year in sorted(reports.keys() | strategies.keys(), reverse=True)
    ]
