"""The cost-sharing table rendered in each format, for the web views and the command alike."""

import json
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from reports.exports import rounding_notes, table_csv, table_json, table_xlsx
from reports.formatting import NumberFormat
from reports.pdf import render_pdf
from reports.selectors import Cell, CostSharingTable, grand_total_label

FORMATS = ("html", "pdf", "csv", "xlsx", "json")
# More municipalities than this do not fit an A4 portrait page legibly.
PORTRAIT_COLUMNS = 6
# A reader checks a few dozen rounding notes; the JSON export lists every adjusted number.
MAX_ROUNDING_NOTES = 30
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Rendered:
    content: bytes
    content_type: str
    filename: str


def cost_sharing_heading(table: CostSharingTable) -> str:
    return _("Overview of the co-funding of the associations' activities in %(year)s (EUR)") % {
        "year": table.year
    }


@dataclass(frozen=True)
class DisplayRow:
    """A table row ready to print: its style, label and the HTML of its number cells."""

    css_class: str
    label: str
    numbers: SafeString


def _numbers_html(total, cells: tuple[Cell, ...], fmt: NumberFormat) -> SafeString:
    # Built in Python because a table can hold 58,000 numbers; a template loop per cell is
    # the slowest part of the page. Numbers and markers ("*") are safe; nothing else enters.
    parts = [f'<td class="num">{fmt(total.value)}</td>']
    for cell in cells:
        marker = f'<span class="marker">{escape(cell.marker)}</span>' if cell.marker else ""
        parts.append(f'<td class="num">{fmt(cell.figure.value)}{marker}</td>')
    return mark_safe("".join(parts))


def display_rows(table: CostSharingTable) -> list[DisplayRow]:
    fmt = NumberFormat(places=max(0, -table.unit.as_tuple().exponent))
    rows = [
        DisplayRow(
            css_class="association" if row.is_association else "line",
            label=row.label.upper() if row.is_association else row.label,
            numbers=_numbers_html(row.total, row.cells, fmt),
        )
        for row in table.rows
    ]
    rows.append(
        DisplayRow(
            css_class="grand-total",
            label=grand_total_label(),
            numbers=_numbers_html(table.total, table.total_cells, fmt),
        )
    )
    return rows


def cost_sharing_context(table: CostSharingTable) -> dict:
    """What the page and the document templates need besides the table itself."""
    notes = rounding_notes(table, limit=MAX_ROUNDING_NOTES)
    return {
        "table": table,
        "rows": display_rows(table),
        "heading": cost_sharing_heading(table),
        "rounding_count": len(table.adjusted),
        "rounding_notes": notes,
        "rounding_more": len(table.adjusted) - len(notes),
        "landscape": len(table.columns) > PORTRAIT_COLUMNS,
    }


def cost_sharing_filename(table: CostSharingTable, extension: str) -> str:
    suffix = f"-{table.municipality.slug}" if table.municipality else ""
    return f"{table.strategy.slug}-{table.year}-sofinanciranje{suffix}.{extension}"


def render_document(template: str, context: dict, fmt: str) -> tuple[bytes, str]:
    """A document template as standalone HTML or as PDF: the content and its content type."""
    html = render_to_string(template, context)
    if fmt == "html":
        return html.encode("utf-8"), "text/html; charset=utf-8"
    return render_pdf(html), "application/pdf"


def csv_content(text: str) -> tuple[bytes, str]:
    """CSV text as bytes with a byte-order mark, which lets spreadsheets recognise UTF-8."""
    return text.encode("utf-8-sig"), "text/csv; charset=utf-8"


def render_cost_sharing(table: CostSharingTable, fmt: str) -> Rendered:
    """The table as a standalone document of the given format."""
    if fmt in ("html", "pdf"):
        content, content_type = render_document(
            "reports/cost_sharing_document.html", cost_sharing_context(table), fmt
        )
    elif fmt == "csv":
        content, content_type = csv_content(table_csv(table))
    elif fmt == "xlsx":
        content, content_type = table_xlsx(table), XLSX_CONTENT_TYPE
    elif fmt == "json":
        text = json.dumps(table_json(table), ensure_ascii=False, indent=2) + "\n"
        content, content_type = text.encode("utf-8"), "application/json"
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return Rendered(content, content_type, cost_sharing_filename(table, fmt))
