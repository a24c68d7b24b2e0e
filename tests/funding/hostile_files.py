"""Small files that ask an importer for far more than they hold: the limits' tests and bench.

Each builder returns the bytes of a file the size of an e-mail attachment that, read naively,
takes gigabytes or minutes: a cell in the sheet's last row, a sheet that declares the whole grid,
millions of blank lines, a cell of a hundred megabytes, too many columns, and a formula that was
never computed.
"""

import io
import re
import zipfile

import openpyxl

from funding.limits import MAX_CELL_CHARS, MAX_COLUMNS, MAX_FILE_BYTES, MAX_ROWS

LINE_HEADER = ["strategija", "leto", "društvo", "kategorija", "opis", "znesek"]
GOOD_LINE = [
    "kras-2025-2029",
    2026,
    "po-moc",
    "Materialni stroški programa",
    "indeksirano",
    6855.42,
]


def workbook_bytes(rows: list[list], *, cells: dict | None = None) -> bytes:
    """An XLSX of ``rows`` from A1, with ``cells`` (coordinate → value) set on top."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for coordinate, value in (cells or {}).items():
        sheet[coordinate] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_sheet_xml(raw: bytes, rewrite) -> bytes:
    """The workbook with its first sheet's XML passed through ``rewrite`` (text → text)."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = rewrite(data.decode("utf-8")).encode("utf-8")
            target.writestr(info.filename, data)
    return buffer.getvalue()


def declaring(ref: str):
    """A rewrite that makes the sheet declare ``ref`` as its dimension (or none, for None)."""

    def rewrite(xml: str) -> str:
        replacement = "" if ref is None else f'<dimension ref="{ref}"/>'
        return re.sub(r"<dimension [^>]*/>", replacement, xml)

    return rewrite


def cell_in_last_row() -> bytes:
    """A valid line and one cell at A1048576, the last row a sheet has (openpyxl declares it)."""
    return workbook_bytes([LINE_HEADER, GOOD_LINE], cells={"A1048576": "x"})


def cell_in_last_row_undeclared() -> bytes:
    """The same without a <dimension>: only reading the rows finds the last one."""
    return with_sheet_xml(cell_in_last_row(), declaring(None))


def whole_grid_declared() -> bytes:
    """Two rows that declare the whole grid A1:XFD1048576 (16,384 × 1,048,576 cells)."""
    return with_sheet_xml(workbook_bytes([LINE_HEADER, GOOD_LINE]), declaring("A1:XFD1048576"))


def blank_lines_csv() -> bytes:
    """A header and blank lines up to the 5 MB an import file may have."""
    header = ";".join(LINE_HEADER).encode("utf-8") + b"\r\n"
    return header + b"\n" * (MAX_FILE_BYTES - len(header))


def separator_lines_csv() -> bytes:
    """A header and lines of empty cells (";;;;;") up to 5 MB."""
    header = ";".join(LINE_HEADER).encode("utf-8") + b"\r\n"
    return header + b";;;;;\n" * ((MAX_FILE_BYTES - len(header)) // 6)


def long_text_csv(length: int = MAX_CELL_CHARS + 1) -> bytes:
    line = [*GOOD_LINE[:4], "a" * length, "6.855,42"]
    return ";".join(map(str, [*LINE_HEADER])).encode() + b"\r\n" + ";".join(map(str, line)).encode()


def long_text_xlsx(length: int = MAX_CELL_CHARS + 1) -> bytes:
    """A line whose note holds ``length`` characters (100 MB pack into some 100 KB).

    openpyxl cuts a text to the 32,767 characters an Excel cell holds, so the note is written
    into the sheet's XML.
    """
    raw = workbook_bytes([LINE_HEADER, [*GOOD_LINE[:4], "DOLGO", GOOD_LINE[5]]])
    return with_sheet_xml(raw, lambda xml: xml.replace(">DOLGO<", ">" + "a" * length + "<"))


def wide_csv(columns: int = MAX_COLUMNS + 1) -> bytes:
    header = LINE_HEADER + [f"stolpec {n}" for n in range(len(LINE_HEADER) + 1, columns + 1)]
    return ";".join(header).encode() + b"\r\n" + ";".join(map(str, GOOD_LINE)).encode()


def wide_xlsx(columns: int = MAX_COLUMNS + 1) -> bytes:
    """A line with a value in a column past the limit; the dimension declares it."""
    extra = ["x"] * (columns - len(GOOD_LINE))
    return workbook_bytes([LINE_HEADER, [*GOOD_LINE, *extra]])


def wide_xlsx_undeclared(columns: int = MAX_COLUMNS + 1) -> bytes:
    """The same, declaring only A1:F2: only reading the cells finds the wide row."""
    return with_sheet_xml(wide_xlsx(columns), declaring("A1:F2"))


def tall_xlsx_undeclared(rows: int = MAX_ROWS + 2) -> bytes:
    """Rows of one empty-looking cell each past the row limit, declaring only A1:F2."""
    body = "".join(f'<row r="{n}"><c r="A{n}" s="0"/></row>' for n in range(3, rows + 2))
    raw = workbook_bytes([LINE_HEADER, GOOD_LINE])
    return with_sheet_xml(
        raw, lambda xml: declaring("A1:F2")(xml.replace("</sheetData>", body + "</sheetData>"))
    )


def formula_without_value() -> bytes:
    """A note written as a formula that no spreadsheet program has computed (openpyxl)."""
    return workbook_bytes([LINE_HEADER, [*GOOD_LINE[:4], "=1+1", GOOD_LINE[5]]])


def formula_with_value() -> bytes:
    """The same formulas as Excel saves them: with the computed values."""

    def computed(xml: str) -> str:
        xml = xml.replace("<f>1+1</f><v />", '<f>"in "&amp;"dexirano"</f><v>indeksirano</v>')
        return xml.replace('<c r="E2">', '<c r="E2" t="str">')

    raw = workbook_bytes([LINE_HEADER, [*GOOD_LINE[:4], "=1+1", GOOD_LINE[5]]])
    return with_sheet_xml(raw, computed)


# What the bench measures: a name, the file's name, and how to build it.
HOSTILE_FILES = [
    ("cell at A1048576", "zadnja.xlsx", cell_in_last_row),
    ("cell at A1048576, no dimension", "zadnja.xlsx", cell_in_last_row_undeclared),
    ("dimension A1:XFD1048576", "mreza.xlsx", whole_grid_declared),
    ("5 MB of blank lines", "prazne.csv", blank_lines_csv),
    ("5 MB of ;;;;; lines", "prazne.csv", separator_lines_csv),
    ("100 MB text cell (XLSX)", "dolga.xlsx", lambda: long_text_xlsx(100 * 1024 * 1024)),
    ("40 MB text cell (XLSX)", "dolga.xlsx", lambda: long_text_xlsx(40 * 1024 * 1024)),
    ("4 MB text cell (CSV)", "dolga.csv", lambda: long_text_csv(4 * 1024 * 1024)),
    ("51 columns (CSV)", "siroka.csv", wide_csv),
    ("16,384 columns, dimension A1:F2", "siroka.xlsx", lambda: wide_xlsx_undeclared(16384)),
    ("100,002 rows, dimension A1:F2", "visoka.xlsx", tall_xlsx_undeclared),
    ("formula without a value", "formula.xlsx", formula_without_value),
]
