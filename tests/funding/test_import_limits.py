"""Limits of an import file: size, rows, columns, cell length, formulas without values.

A small hostile file (a cell in the sheet's last row, a sheet declaring the whole grid, millions
of blank lines, a hundred-megabyte cell) is refused in words, by the admin's import page and by
the commands, before it costs more than a moment and a few megabytes; nothing is written.
The time and memory bounds below are guards against a regression to the naive reading (43 s and
gigabytes), not benchmarks: ``bench/bench_import_limits.py`` prints the figures.
"""

import os
import tempfile
import time
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from funding.imports import ImportFileError, UploadStorage, read_table
from funding.limits import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS
from funding.models import Allocation, BudgetItem, BudgetLine
from programs.models import Activity
from tests.funding import hostile_files as hostile
from tests.funding.spreadsheets import command_output, command_refusal
from tests.pages import forms_of

pytestmark = pytest.mark.django_db

# A worker must answer long before its timeout and within a small share of its memory.
SECONDS = 5
PEAK_BYTES = 300 * 1024 * 1024

# Each hostile file with a fragment the English message must hold and one of the Slovenian.
REFUSED = {
    "cell in the last row": (
        "zadnja.xlsx",
        hostile.cell_in_last_row,
        "1048576 rows; an import file may have at most 100000 rows",
        "največ 100000 vrstic",
    ),
    "cell in the last row, undeclared": (
        "zadnja.xlsx",
        hostile.cell_in_last_row_undeclared,
        "more than 100000 rows; an import file may have at most 100000 rows",
        "največ 100000 vrstic",
    ),
    "whole grid declared": (
        "mreza.xlsx",
        hostile.whole_grid_declared,
        "16384 columns; an import file may have at most 50 columns",
        "največ 50 stolpcev",
    ),
    "blank lines": (
        "prazne.csv",
        hostile.blank_lines_csv,
        "more than 100000 rows; an import file may have at most 100000 rows",
        "največ 100000 vrstic",
    ),
    "lines of separators": (
        "prazne.csv",
        hostile.separator_lines_csv,
        "more than 100000 rows; an import file may have at most 100000 rows",
        "največ 100000 vrstic",
    ),
    "100 MB text cell": (
        "dolga.xlsx",
        lambda: hostile.long_text_xlsx(100 * 1024 * 1024),
        "an import file may unpack to at most 52428800 bytes",
        "največ 52428800 B",
    ),
    "text cell over the limit (XLSX)": (
        "dolga.xlsx",
        hostile.long_text_xlsx,
        f"Line 2, column “opis”: the cell holds {MAX_CELL_CHARS + 1} characters; a cell may "
        f"hold at most {MAX_CELL_CHARS}.",
        f"Vrstica 2, stolpec „opis“: celica ima {MAX_CELL_CHARS + 1} znakov",
    ),
    "text cell over the limit (CSV)": (
        "dolga.csv",
        hostile.long_text_csv,
        f"Line 2, column “opis”: the cell holds {MAX_CELL_CHARS + 1} characters; a cell may "
        f"hold at most {MAX_CELL_CHARS}.",
        f"Vrstica 2, stolpec „opis“: celica ima {MAX_CELL_CHARS + 1} znakov",
    ),
    "text cell over the CSV reader's own limit": (
        "dolga.csv",
        lambda: hostile.long_text_csv(4 * 1024 * 1024),
        f"Line 2: a cell holds more than {MAX_CELL_CHARS} characters; a cell may hold at most "
        f"{MAX_CELL_CHARS}.",
        f"Vrstica 2: celica ima več kot {MAX_CELL_CHARS} znakov",
    ),
    "too many columns (CSV)": (
        "siroka.csv",
        hostile.wide_csv,
        "Line 1 has more than 50 columns; an import file may have at most 50 columns",
        "največ 50 stolpcev",
    ),
    "too many columns (XLSX)": (
        "siroka.xlsx",
        hostile.wide_xlsx,
        "51 columns; an import file may have at most 50 columns",
        "največ 50 stolpcev",
    ),
    "too many columns, undeclared": (
        "siroka.xlsx",
        lambda: hostile.wide_xlsx_undeclared(16384),
        "Line 2 has more than 50 columns; an import file may have at most 50 columns",
        "največ 50 stolpcev",
    ),
    "too many rows, undeclared": (
        "visoka.xlsx",
        hostile.tall_xlsx_undeclared,
        "more than 100000 rows; an import file may have at most 100000 rows",
        "največ 100000 vrstic",
    ),
    "formula without a value": (
        "formula.xlsx",
        hostile.formula_without_value,
        "Line 2, column “opis” (cell E2): the cell holds a formula without a computed value",
        "formulo brez izračunane vrednosti",
    ),
}

# Every import of the admin and its command, with who imports.
IMPORTS = {
    "budget lines": ("funding_budgetline", "import_budget_lines", (), "koordinator"),
    "budget items": ("funding_budgetitem", "import_budget_lines", ("--items",), "koordinator"),
    "allocations": ("funding_allocation", "import_allocations", (), "uradnik.velenje"),
    "activities": ("programs_activity", "import_activities", (), "koordinator"),
}


@pytest.fixture(scope="module")
def files():
    """The hostile files, built once: some take a second to pack."""
    return {name: builder() for name, (_file, builder, *_texts) in REFUSED.items()}


def database_state():
    """Everything an import may write, and its history."""
    return (
        sorted(BudgetLine.objects.values_list("pk", "amount", "note", "version")),
        sorted(BudgetItem.objects.values_list("pk", "amount", "description")),
        sorted(Allocation.objects.values_list("pk", "recipient", "realised_amount")),
        sorted(Activity.objects.values_list("pk", "text", "periods")),
        BudgetLine.history.count(),
        BudgetItem.history.count(),
    )


def timed(call):
    """What ``call`` returns and the seconds it took."""
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def peak_memory(call):
    """What ``call`` returns and its peak of Python memory in bytes (tracing slows it down)."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def admin_upload(client, app_model: str, file_name: str, content: bytes):
    """Upload through the import page as rendered: its file field and its format select."""
    url = reverse(f"admin:{app_model}_import")
    page = client.get(url)
    (form,) = [f for f in forms_of(client, url, page) if f.enctype == "multipart/form-data"]
    formats = {
        str(label).lower(): value for value, label in page.context["form"]["format"].field.choices
    }
    form.set("format", formats[file_name.rsplit(".", 1)[1]])
    return form.submit(files={"import_file": SimpleUploadedFile(file_name, content)})


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_admin_refuses_a_hostile_file_in_words_quickly_and_writes_nothing(
    demo, persona, client, files, case
):
    file_name, _builder, _english, slovenian = REFUSED[case]
    client.force_login(persona("koordinator"))
    before = database_state()
    response, seconds = timed(
        lambda: admin_upload(client, "funding_budgetline", file_name, files[case])
    )
    assert response.status_code == 200
    errors = response.context["form"].errors.get("import_file", [])
    assert any(slovenian in error for error in errors), errors
    assert slovenian in response.content.decode()
    assert response.context.get("confirm_form") is None
    assert database_state() == before
    assert seconds < SECONDS, seconds


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_command_refuses_a_hostile_file_in_words_quickly_and_writes_nothing(
    demo, tmp_path, files, case
):
    file_name, _builder, english, _slovenian = REFUSED[case]
    path = tmp_path / file_name
    path.write_bytes(files[case])
    before = database_state()
    with translation.override("en"):
        report, peak = peak_memory(lambda: command_refusal("import_budget_lines", path))
    assert english in report, report
    assert "Traceback" not in report
    assert "nothing was changed" in report
    assert database_state() == before
    assert peak < PEAK_BYTES, peak


@pytest.mark.parametrize("name", list(IMPORTS))
def test_every_import_page_and_command_applies_the_limits(demo, persona, client, tmp_path, name):
    app_model, command, options, editor = IMPORTS[name]
    client.force_login(persona(editor))
    before = database_state()
    response = admin_upload(client, app_model, "prazne.csv", hostile.blank_lines_csv())
    assert any("100000" in error for error in response.context["form"].errors["import_file"])
    path = tmp_path / "mreza.xlsx"
    path.write_bytes(hostile.whole_grid_declared())
    with translation.override("en"):
        report = command_refusal(command, path, *options, "--user", editor)
    assert "an import file may have at most 50 columns" in report, report
    assert database_state() == before


def test_the_limits_are_generous_for_real_files():
    """A strategy of 375 associations, four categories and five years is 7,500 lines."""
    assert MAX_ROWS >= 100_000
    assert MAX_COLUMNS >= 50
    assert MAX_CELL_CHARS >= 32_767  # what an Excel cell holds


def test_a_note_of_exactly_the_longest_cell_imports(demo, tmp_path):
    path = tmp_path / "dolga.xlsx"
    path.write_bytes(hostile.long_text_xlsx(MAX_CELL_CHARS))
    with translation.override("en"):
        output = command_output("import_budget_lines", path)
    assert "1 new" in output, output
    assert len(BudgetLine.objects.get(year=2026).note) == MAX_CELL_CHARS


def test_a_formula_with_its_computed_value_imports_the_value(demo, tmp_path):
    path = tmp_path / "formula.xlsx"
    path.write_bytes(hostile.formula_with_value())
    with translation.override("en"):
        command_output("import_budget_lines", path)
    assert BudgetLine.objects.get(year=2026).note == "indeksirano"


def test_a_formula_computed_to_empty_text_is_an_empty_cell():
    """Excel stores =IF(…;"";…) as a string formula with an empty value: that is computed."""
    raw = hostile.with_sheet_xml(
        hostile.formula_without_value(),
        lambda xml: xml.replace('<c r="E2"><f>1+1</f><v />', '<c r="E2" t="str"><f>""</f><v />'),
    )
    dataset = read_table(raw, "prazna.xlsx")
    assert dataset[0][4] in (None, "")


def test_blank_lines_within_the_limit_keep_the_line_numbers():
    header = ";".join(hostile.LINE_HEADER)
    dataset = read_table(f"{header}\r\n\r\n\r\nx;2026\r\n".encode(), "vrstice.csv")
    assert len(dataset) == 3
    assert dataset[2][0] == "x"


def test_the_reading_layer_refuses_rather_than_raising_anything_else():
    with pytest.raises(ImportFileError):
        read_table(hostile.whole_grid_declared(), "mreza.xlsx")


def test_the_admin_refuses_a_file_over_5_mb_before_storing_it(
    demo, persona, client, tmp_path, monkeypatch
):
    # A temporary folder of its own: other test runs share the machine's.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    client.force_login(persona("koordinator"))
    content = hostile.blank_lines_csv() + b"\n" * 1024 * 1024
    response = admin_upload(client, "funding_budgetline", "velika.csv", content)
    errors = response.context["form"].errors["import_file"]
    assert any(f"velika.csv je {len(content)} B" in error for error in errors), errors
    assert not [name for name in os.listdir(tmp_path) if name.startswith(UploadStorage.prefix)]
