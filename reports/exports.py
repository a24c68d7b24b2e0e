"""The cost-sharing table as JSON, CSV and XLSX.

JSON follows a published shape that other systems rely on (see the README). CSV is what a
Slovenian spreadsheet opens directly: ``;`` between fields, a decimal comma, UTF-8 with a
byte-order mark. XLSX keeps numbers numeric, formatted by the reader's own locale.
"""

import csv
import io
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from funding.imports import escape_formula, spreadsheet_character
from reports.selectors import CostSharingTable, grand_total_label


def _plain(value: Decimal) -> str:
    """A decimal as a plain string without exponent or needless trailing zeros."""
    text = format(value.normalize(), "f")
    return text


def table_json(table: CostSharingTable) -> dict:
    """The table in the documented JSON shape; values are decimal strings in the unit."""
    return {
        "strategy": table.strategy.slug,
        "year": table.year,
        "rounding_unit": table.strategy.rounding_unit,
        "municipalities": [
            {"slug": c.slug, "name": c.name, "share_percent": f"{c.share_percent:.2f}"}
            for c in table.columns
        ],
        "rows": [
            {
                "association": row.association_slug,
                "line": row.line,
                "total": str(row.total.value),
                "shares": [str(cell.figure.value) for cell in row.cells],
            }
            for row in table.rows
        ],
        "total": {
            "total": str(table.total.value),
            "shares": [str(cell.figure.value) for cell in table.total_cells],
        },
        "adjusted": [
            {
                "association": a.association_slug,
                "line": a.line,
                "municipality": a.municipality_slug,
                "exact": _plain(a.exact),
                "value": str(a.value),
            }
            for a in table.adjusted
        ],
    }


def _header(table: CostSharingTable) -> list[str]:
    return [
        _("Association"),
        _("Line"),
        _("Total"),
        *[f"{c.name} ({_percent(c.share_percent)} %)" for c in table.columns],
    ]


def _percent(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _comma(value: Decimal) -> str:
    return str(value).replace(".", ",")


def table_csv(table: CostSharingTable) -> str:
    """The table as ``;``-separated CSV with decimal commas (UTF-8 with BOM when encoded)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([escape_formula(text) for text in _header(table)])
    for row in table.rows:
        writer.writerow(
            [
                escape_formula(row.association_name),
                row.line or "",
                _comma(row.total.value),
                *[_comma(cell.figure.value) for cell in row.cells],
            ]
        )
    writer.writerow(
        [
            grand_total_label(),
            "",
            _comma(table.total.value),
            *[_comma(cell.figure.value) for cell in table.total_cells],
        ]
    )
    return out.getvalue()


def table_xlsx(table: CostSharingTable) -> bytes:
    """The table as an XLSX workbook with numeric cells, footnotes and rounding notes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(table.year)
    number_format = "#,##0" if table.unit >= 1 else "#,##0.00"
    # Named explicitly: a bold font without a name prints in the reader's default serif.
    bold = Font(name="Calibri", bold=True)

    sheet.append(sheet_row([table.strategy.title]))
    sheet["A1"].font = Font(name="Calibri", bold=True, size=12)
    sheet.append(
        [_("Cost sharing of the associations' activities in %(year)s (EUR)") % {"year": table.year}]
    )
    sheet.append([])
    sheet.append(sheet_row(_header(table)))
    header_row = sheet.max_row
    for index, cell in enumerate(sheet[header_row]):
        cell.font = bold
        cell.alignment = Alignment(
            wrap_text=True, vertical="top", horizontal="right" if index >= 2 else "left"
        )
    # Spreadsheets do not grow a row for wrapped text on their own: room for two lines.
    sheet.row_dimensions[header_row].height = 30

    def append(label, line, total, cells, strong):
        sheet.append(sheet_row([label, line, total.value, *[c.figure.value for c in cells]]))
        for cell in sheet[sheet.max_row][2:]:
            cell.number_format = number_format
        if strong:
            for cell in sheet[sheet.max_row]:
                cell.font = bold

    for row in table.rows:
        append(row.association_name, row.line or "", row.total, row.cells, row.is_association)
    append(grand_total_label(), "", table.total, table.total_cells, True)

    sheet.append([])
    for footnote in table.footnotes:
        sheet.append(sheet_row([f"{footnote.marker} {footnote.text}"]))
    for note in rounding_notes(table):
        sheet.append(sheet_row([note]))

    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)
    print_as_clerks_expect(sheet, header_row, [44, 30, 12] + [16] * len(table.columns))

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_row(values: list) -> list:
    """A row whose text an XLSX cell holds as text, whatever was typed into the names.

    openpyxl refuses the control characters XML 1.0 cannot carry; they are written as "�".
    Text starting with = + - @ would be a formula ("=HYPERLINK(…)"): it gets a leading
    apostrophe, as the admin's exports write it.
    """
    return [escape_formula(spreadsheet_character(value)) for value in values]


def print_as_clerks_expect(sheet, header_row: int, widths: list[int]) -> None:
    """Landscape A4, one page wide, the header row on every page; the columns' widths."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def rounding_notes(table: CostSharingTable, limit: int | None = None) -> list[str]:
    """One sentence per number that differs from half-up rounding (the first ``limit``)."""
    notes = []
    for a in table.adjusted[:limit]:
        place = ", ".join(
            part
            for part in (
                a.association_name or grand_total_label(),
                a.line,
                a.municipality_name or _("total"),
            )
            if part
        )
        notes.append(
            _("%(place)s: %(value)s instead of %(half_up)s (exact %(exact)s)")
            % {
                "place": place,
                "value": number_format(a.value, force_grouping=True),
                "half_up": number_format(a.half_up, force_grouping=True),
                "exact": number_format(a.exact, force_grouping=True),
            }
        )
    return notes
