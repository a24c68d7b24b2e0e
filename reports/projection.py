"""The five-year projection of a strategy: every association and municipality, year by year.

Each year's column is that year's cost-sharing table (``reports.selectors``), so the
projection adds up exactly as the tables do: an association's figure is the sum of its
lines, a year's total the sum of the associations and of the municipalities. A year
without budget lines has no figures ("—"), never a silent 0. Rendered as a page, PDF, XLSX
and CSV; a chart draws each municipality's contribution per year.
"""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from funding.imports import escape_formula
from funding.models import CATEGORY_EXCHANGE_LABELS, BudgetCategory, FundingStrategy
from reports.charts import Bar, horizontal_bar_chart
from reports.documents import XLSX_CONTENT_TYPE, Rendered, csv_content, render_document
from reports.exports import print_as_clerks_expect, sheet_row
from reports.formatting import NumberFormat
from reports.selectors import Column, CostSharingTable, cost_sharing_table, grand_total_label

FORMATS = ("html", "pdf", "xlsx", "csv")
MISSING = "—"
_CATEGORY_POSITION = {
    CATEGORY_EXCHANGE_LABELS[category]: i for i, category in enumerate(BudgetCategory)
}


@dataclass(frozen=True)
class ProjectionYear:
    """One year's column: its cost-sharing table, and whether the year has lines at all."""

    year: int
    table: CostSharingTable
    has_lines: bool

    @property
    def total(self) -> Decimal | None:
        """The year's grand total, None when the year has no lines."""
        return self.table.total.value if self.has_lines else None


@dataclass(frozen=True)
class ProjectionRow:
    """An association (``line`` None) or one of its lines, with a figure per year.

    A figure is None where the year has no such line (or the association no line at all).
    """

    association_slug: str
    association_name: str
    line: str | None  # the category's Slovenian label (exchange format)
    values: tuple[Decimal | None, ...]

    @property
    def is_association(self) -> bool:
        return self.line is None

    @property
    def label(self) -> str:
        return self.line or self.association_name

    @property
    def total(self) -> Decimal | None:
        """The sum over the years that have a figure; None when no year has one."""
        return _total(self.values)


@dataclass(frozen=True)
class MunicipalityRow:
    """A municipality of the key with its contribution per year (its column's total)."""

    column: Column
    values: tuple[Decimal | None, ...]

    @property
    def total(self) -> Decimal | None:
        return _total(self.values)


@dataclass(frozen=True)
class RateRow:
    """One category's indexation rate in each later year (None: no rate for that year)."""

    category: str  # the category's label in the interface language
    percents: tuple[Decimal | None, ...]


@dataclass(frozen=True)
class RateBases:
    """Where a later year's rates come from: their distinct bases, in the categories' order."""

    year: int
    bases: tuple[str, ...]


@dataclass(frozen=True)
class Projection:
    """A strategy's years side by side; each year's figures are its cost-sharing table's."""

    strategy: FundingStrategy
    unit: Decimal
    years: tuple[ProjectionYear, ...]
    rows: tuple[ProjectionRow, ...]
    municipalities: tuple[MunicipalityRow, ...]
    rates: tuple[RateRow, ...]
    rate_bases: tuple[RateBases, ...]

    @property
    def later_years(self) -> list[int]:
        """The years derived by indexation rates: all but the first."""
        return [year.year for year in self.years[1:]]

    @property
    def totals(self) -> tuple[Decimal | None, ...]:
        """Each year's grand total, equal to that year's cost-sharing table's total."""
        return tuple(year.total for year in self.years)

    @property
    def total(self) -> Decimal | None:
        return _total(self.totals)

    @property
    def years_without_lines(self) -> list[int]:
        return [year.year for year in self.years if not year.has_lines]

    @property
    def period(self) -> str:
        # Years are not amounts: no thousands separator.
        return f"{self.strategy.start_year}–{self.strategy.end_year}"


def _total(values) -> Decimal | None:
    present = [value for value in values if value is not None]
    # Started from the first figure, the sum keeps the figures' unit: 61558, not 61558.00.
    return sum(present[1:], present[0]) if present else None


def strategy_projection(strategy: FundingStrategy) -> Projection:
    """The projection over all the strategy's years (five queries a year, one for the rates)."""
    years = []
    for year in strategy.years:
        table = cost_sharing_table(strategy, year)
        has_lines = any(not row.is_association for row in table.rows)
        years.append(ProjectionYear(year, table, has_lines))

    # The associations in the strategy's order, each followed by every line it has in any
    # year, in the categories' order.
    figures: dict[tuple[str, str | None], dict[int, Decimal]] = {}
    names: dict[str, str] = {}
    lines: dict[str, set[str]] = {}
    for column in years:
        association_total = None
        for row in column.table.rows:
            slug = row.association_slug
            names[slug] = row.association_name
            lines.setdefault(slug, set())
            if row.is_association:  # the association's row comes before its lines
                association_total = row.total.value
                continue
            lines[slug].add(row.line)
            figures.setdefault((slug, row.line), {})[column.year] = row.total.value
            # An association has a figure only in the years it has lines.
            figures.setdefault((slug, None), {})[column.year] = association_total

    rows = []
    for slug, labels in lines.items():
        for line in [None, *sorted(labels, key=_CATEGORY_POSITION.__getitem__)]:
            values = figures.get((slug, line), {})
            rows.append(
                ProjectionRow(slug, names[slug], line, tuple(values.get(y.year) for y in years))
            )

    columns = years[0].table.columns if years else ()
    municipalities = tuple(
        MunicipalityRow(
            column,
            tuple(y.table.total_cells[i].figure.value if y.has_lines else None for y in years),
        )
        for i, column in enumerate(columns)
    )
    return Projection(
        strategy=strategy,
        unit=strategy.rounding_unit_decimal,
        years=tuple(years),
        rows=tuple(rows),
        municipalities=municipalities,
        **_rates(strategy),
    )


def _rates(strategy: FundingStrategy) -> dict:
    """The ``rates`` and ``rate_bases`` of the projection."""
    rates = {(rate.year, rate.category): rate for rate in strategy.indexation_rates.all()}
    later = strategy.years[1:]
    rows = tuple(
        RateRow(
            str(category.label),
            tuple(
                rates[(year, category)].percent if (year, category) in rates else None
                for year in later
            ),
        )
        for category in BudgetCategory
    )
    bases = tuple(
        RateBases(
            year,
            tuple(
                dict.fromkeys(
                    rates[(year, category)].basis
                    for category in BudgetCategory
                    if (year, category) in rates and rates[(year, category)].basis
                )
            ),
        )
        for year in later
    )
    return {"rates": rows, "rate_bases": bases}


@dataclass(frozen=True)
class DisplayRow:
    """A row ready to print: its style, label and the HTML of its number cells."""

    css_class: str
    label: str
    numbers: SafeString


def _numbers_html(values, total, fmt: NumberFormat) -> SafeString:
    # Numbers and the dash are the only content, so the cells are safe as built.
    return mark_safe(
        "".join(
            f'<td class="num">{fmt(value)}</td>'
            if value is not None
            else f'<td class="num missing">{MISSING}</td>'
            for value in (*values, total)
        )
    )


def _places(projection: Projection) -> int:
    """Decimals of the strategy's unit: 0 for whole euros, 2 for cents."""
    return max(0, -projection.unit.as_tuple().exponent)


def _number_format(projection: Projection) -> NumberFormat:
    return NumberFormat(places=_places(projection))


def association_rows(projection: Projection) -> list[DisplayRow]:
    """The associations and their lines, then the grand total: one column per year."""
    fmt = _number_format(projection)
    rows = [
        DisplayRow(
            "association" if row.is_association else "line",
            row.label.upper() if row.is_association else row.label,
            _numbers_html(row.values, row.total, fmt),
        )
        for row in projection.rows
    ]
    return [*rows, _grand_total_row(projection, fmt)]


def _grand_total_row(projection: Projection, fmt: NumberFormat) -> DisplayRow:
    numbers = _numbers_html(projection.totals, projection.total, fmt)
    return DisplayRow("grand-total", grand_total_label(), numbers)


def municipality_label(row: MunicipalityRow) -> str:
    share = number_format(row.column.share_percent, decimal_pos=2)
    return f"{row.column.name} ({share} %)"


def municipality_rows(projection: Projection) -> list[DisplayRow]:
    """Each municipality's contribution per year, then the grand total (the same as above)."""
    fmt = _number_format(projection)
    rows = [
        DisplayRow(
            "municipality", municipality_label(row), _numbers_html(row.values, row.total, fmt)
        )
        for row in projection.municipalities
    ]
    return [*rows, _grand_total_row(projection, fmt)]


def contribution_charts(projection: Projection) -> list[dict]:
    """A bar chart per municipality: its contribution in each year, on one shared scale."""
    largest = max(
        (value for row in projection.municipalities for value in row.values if value is not None),
        default=None,
    )
    charts = []
    for row in projection.municipalities:
        title = _("%(municipality)s: contribution by year") % {"municipality": row.column.name}
        bars = [
            Bar(str(year.year), value)
            for year, value in zip(projection.years, row.values, strict=True)
        ]
        charts.append(
            {
                "title": title,
                "chart": horizontal_bar_chart(
                    bars,
                    title=title,
                    unit_label="EUR",
                    scale_to=largest,
                    places=_places(projection),
                ),
            }
        )
    return charts


def projection_heading(projection: Projection) -> str:
    return _("Projection of the co-funding of the associations %(period)s (EUR)") % {
        "period": projection.period
    }


def projection_context(projection: Projection) -> dict:
    """What the page and the PDF show."""
    return {
        "projection": projection,
        "heading": projection_heading(projection),
        "association_rows": association_rows(projection),
        "municipality_rows": municipality_rows(projection),
        "charts": contribution_charts(projection),
    }


def projection_filename(projection: Projection, extension: str) -> str:
    return f"{projection.strategy.slug}-projekcija.{extension}"


def render_projection(projection: Projection, fmt: str) -> Rendered:
    """The projection as a standalone document of the given format."""
    if fmt in ("html", "pdf"):
        content, content_type = render_document(
            "reports/projection_document.html", projection_context(projection), fmt
        )
    elif fmt == "csv":
        content, content_type = csv_content(projection_csv(projection))
    elif fmt == "xlsx":
        content, content_type = projection_xlsx(projection), XLSX_CONTENT_TYPE
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return Rendered(content, content_type, projection_filename(projection, fmt))


def _year_headers(projection: Projection) -> list[str]:
    return [str(year.year) for year in projection.years] + [projection.period]


def _comma(value: Decimal | None) -> str:
    # A year without lines is an empty cell: a decimal column holds no dash.
    return "" if value is None else str(value).replace(".", ",")


def projection_csv(projection: Projection) -> str:
    """Associations and lines, then municipalities, by year; ``;`` and decimal commas.

    A figure a year does not have (no lines) is an empty cell, never 0.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Association"), _("Line"), *_year_headers(projection)])
    for row in projection.rows:
        writer.writerow(
            [
                escape_formula(row.association_name),
                row.line or "",
                *[_comma(value) for value in (*row.values, row.total)],
            ]
        )
    totals = [_comma(value) for value in (*projection.totals, projection.total)]
    writer.writerow([grand_total_label(), "", *totals])
    writer.writerow([])
    writer.writerow([_("Municipality"), _("Share (%)"), *_year_headers(projection)])
    for row in projection.municipalities:
        writer.writerow(
            [
                escape_formula(row.column.name),
                _comma(row.column.share_percent),
                *[_comma(value) for value in (*row.values, row.total)],
            ]
        )
    writer.writerow([grand_total_label(), "", *totals])
    return out.getvalue()


def projection_xlsx(projection: Projection) -> bytes:
    """The projection as a workbook: numeric cells, "—" where a year has no lines; the rates."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Projection")
    number_format = "#,##0" if projection.unit >= 1 else "#,##0.00"
    # Named explicitly: a bold font without a name prints in the reader's default serif.
    bold = Font(name="Calibri", bold=True)

    sheet.append(sheet_row([projection.strategy.title]))
    sheet["A1"].font = Font(name="Calibri", bold=True, size=12)
    sheet.append(sheet_row([projection_heading(projection)]))
    sheet.append([])

    def header(first: str, second: str) -> int:
        sheet.append([first, second, *_year_headers(projection)])
        for index, cell in enumerate(sheet[sheet.max_row]):
            cell.font = bold
            cell.alignment = Alignment(horizontal="right" if index >= 2 else "left")
        return sheet.max_row

    def append(label, second, values, total, strong):
        values = [MISSING if value is None else value for value in (*values, total)]
        sheet.append(sheet_row([label, second, *values]))
        for cell in sheet[sheet.max_row][2:]:
            cell.number_format = number_format
            cell.alignment = Alignment(horizontal="right")
        if strong:
            for cell in sheet[sheet.max_row]:
                cell.font = bold

    header_row = header(_("Association"), _("Line"))
    for row in projection.rows:
        append(row.association_name, row.line or "", row.values, row.total, row.is_association)
    append(grand_total_label(), "", projection.totals, projection.total, True)
    sheet.append([])
    header(_("Municipality"), _("Share (%)"))
    for row in projection.municipalities:
        append(row.column.name, row.column.share_percent, row.values, row.total, False)
        sheet.cell(row=sheet.max_row, column=2).number_format = "0.00"
    append(grand_total_label(), "", projection.totals, projection.total, True)
    if projection.years_without_lines:
        sheet.append([])
        sheet.append([_missing_years_note(projection)])

    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)
    print_as_clerks_expect(sheet, header_row, [44, 30] + [14] * (len(projection.years) + 1))

    rates = workbook.create_sheet(_("Indexation rates"))
    rates.append([_("Category"), *[str(year) for year in projection.later_years]])
    for cell in rates[1]:
        cell.font = bold
    for rate in projection.rates:
        # Stored as a fraction with a percent format, so that 2,50 % reads and computes.
        rates.append([rate.category, *[MISSING if p is None else p / 100 for p in rate.percents]])
        for cell in rates[rates.max_row][1:]:
            cell.number_format = "0.00%"
            cell.alignment = Alignment(horizontal="right")
    rates.append([])
    rates.append([_("Basis")])
    rates.cell(row=rates.max_row, column=1).font = bold
    for entry in projection.rate_bases:
        rates.append(sheet_row([str(entry.year), "; ".join(entry.bases)]))
    for index, width in enumerate([32] + [12] * len(projection.later_years), start=1):
        rates.column_dimensions[get_column_letter(index)].width = width

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _missing_years_note(projection: Projection) -> str:
    return _(
        "No budget lines yet for %(years)s: derive them from the indexation rates or enter them."
    ) % {"years": ", ".join(str(year) for year in projection.years_without_lines)}
