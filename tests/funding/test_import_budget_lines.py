"""Importing and exporting budget lines and items: the command, the resources, the corpus.

Every bad file of ``import_corpus/`` is refused with its line, column and value, and leaves the
database exactly as it was (lines, items, versions and history).
"""

import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import tablib
from django.core.management import CommandError
from django.utils import translation

from funding.imports import (
    MAX_FILE_BYTES,
    Cell,
    CellError,
    ImportFileError,
    SpreadsheetCSV,
    parse_amount,
)
from funding.models import BudgetItem, BudgetLine, FundingStrategy, Municipality
from funding.resources import BudgetItemResource, BudgetLineResource
from programs.models import Association
from tests.factories import MembershipFactory, ShareFactory, StrategyFactory
from tests.funding.spreadsheets import (
    command_output,
    command_refusal,
    exported_csv,
    exported_xlsx,
)

CORPUS = Path(__file__).parent / "import_corpus"
GOOD = CORPUS / "good"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in English; the other engineer translates them."""
    with translation.override("en"):
        yield


@pytest.fixture
def komen_strategy(demo) -> FundingStrategy:
    """A strategy led by Komen, with PO MOČ: the coordinator of Sežana may not edit it."""
    komen = Municipality.objects.get(slug="komen")
    strategy = StrategyFactory(slug="obala-2025-2029", lead_municipality=komen)
    ShareFactory(strategy=strategy, municipality=komen)
    MembershipFactory(strategy=strategy, association=Association.objects.get(slug="po-moc"))
    return strategy


@pytest.fixture
def outside_association(demo) -> Association:
    return Association.objects.create(
        name="Društvo zunaj strategije", short_name="Zunaj", slug="drustvo-zunaj"
    )


def database_state():
    """Every line and item with all its fields, and the number of history records."""
    return (
        list(BudgetLine.objects.order_by("pk").values()),
        list(BudgetItem.objects.order_by("pk").values()),
        BudgetLine.history.count(),
        BudgetItem.history.count(),
    )


def run_import(path, *options) -> str:
    return command_output("import_budget_lines", path, *options)


def refused(path, *options) -> str:
    return command_refusal("import_budget_lines", path, *options)


# file, options, what the report must say (line, column and value)
BAD_FILES = {
    "wrong_header.csv": (
        [],
        [
            "Line 1: the column “iznos” is not known",
            "Line 1: the required column “znesek” is missing",
        ],
    ),
    "missing_header_column.csv": ([], ["Line 1: the required column “leto” is missing"]),
    "text_amount.csv": ([], ["Line 3, column “znesek”: “pet tisoč” is not an amount"]),
    "negative_amount.csv": (
        [],
        ["Line 2, column “znesek”: the amount “-5.047,00” is negative"],
    ),
    "three_decimals.csv": (
        [],
        ["Line 2, column “znesek”: the amount “1.234,567” has more than two decimals"],
    ),
    "ambiguous_amount.csv": ([], ["Line 2, column “znesek”: the amount “1,005” is ambiguous"]),
    "empty_amount.csv": (
        [],
        ["Line 2, column “znesek”: the cell is empty, but a value is required."],
    ),
    "unknown_association.csv": (
        [],
        ["Line 2, column “društvo”: there is no association “neznano-drustvo”"],
    ),
    "association_outside_strategy.csv": (
        [],
        [
            "Line 2, column “društvo”: the association “drustvo-zunaj” is not part of the "
            "strategy “kras-2025-2029”."
        ],
    ),
    "unknown_category.csv": (
        [],
        ["Line 2, column “kategorija”: “Potni stroški” is not a category"],
    ),
    "unknown_strategy.csv": (
        [],
        ["Line 2, column “strategija”: there is no strategy “ni-je-2025” that you may edit."],
    ),
    "year_outside_period.csv": (
        [],
        ["Line 2, column “leto”: the year 2031 lies outside the period 2025–2029"],
    ),
    "duplicate_rows.csv": (
        [],
        [
            "Line 4 repeats line 2: the association “Društvo PO MOČ Sežana” has a line of "
            "category “Drugi stroški” in year 2026 twice in the file."
        ],
    ),
    "empty.csv": ([], ["The file empty.csv is empty."]),
    "header_only.csv": ([], ["The file has a header but no rows to import."]),
    "binary_garbage.csv": (
        [],
        ["The file binary_garbage.csv is neither CSV text nor an Excel workbook"],
    ),
    "utf16.csv": ([], ["The file utf16.csv is UTF-16 text"]),
    "windows_1250.csv": ([], ["The file windows_1250.csv is not UTF-8 text (byte"]),
    "not_editable_strategy.csv": (
        ["--user", "koordinator"],
        ["Line 2, column “strategija”: there is no strategy “obala-2025-2029” that you may edit."],
    ),
    "extra_cells.csv": ([], ["Line 3 has 7 cells, but the header names only 6."]),
    "line_with_items_new_amount.csv": (
        [],
        [
            "Line 2, column “znesek”: the budget line has items that add up to 51,438.00, "
            "so its amount cannot become 52.000,00"
        ],
    ),
    "many_bad_rows.csv": (
        [],
        [
            "Line 3, column “leto”: the year 2031 lies outside",
            "Line 4, column “kategorija”: “Razni stroški” is not a category",
            "Line 6, column “znesek”: the amount “12.345” is ambiguous",
            "Line 7 repeats line 2",
            "(4 problems)",
        ],
    ),
    "text_amount.xlsx": ([], ["Line 3, column “znesek”: “sto evrov” is not an amount"]),
    "three_decimals_float.xlsx": (
        [],
        ["Line 3, column “znesek”: the amount “12.345” has more than two decimals"],
    ),
    "not_a_workbook.xlsx": ([], ["The file not_a_workbook.xlsx is not a readable Excel workbook"]),
    "items_do_not_add_up.csv": (
        ["--items"],
        [
            "Line 2, column “znesek”: the items of the budget line “Rdeči križ Slovenije, OZ "
            "Sežana 2025: Stroški zaposlenih” (lines 2 of the file) add up to 24,383.00, but "
            "the line's amount is 51,438.00"
        ],
    ),
    "items_without_line.csv": (
        ["--items"],
        [
            "Line 2: the strategy “kras-2025-2029” has no budget line of category “Stroški "
            "zaposlenih” for the association “Društvo PO MOČ Sežana” in year 2025"
        ],
    ),
    "items_bad_cells.csv": (
        ["--items"],
        [
            "Line 2, column “delovno mesto”: the cell is empty, but a value is required.",
            "Line 2, column “plačni razred”: “70” is not a pay grade",
            "Line 2, column “delež (%)”: “120” is not a share",
        ],
    ),
}


def test_the_corpus_has_a_test_for_every_bad_file():
    bad_files = {path.name for path in CORPUS.iterdir() if path.is_file()} - {
        "README.md",
        "formula_injection.csv",
    }
    assert bad_files == set(BAD_FILES)
    assert len(bad_files) >= 20


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_is_refused_with_line_column_and_value_and_writes_nothing(
    demo, komen_strategy, outside_association, name
):
    options, expected = BAD_FILES[name]
    before = database_state()
    report = refused(CORPUS / name, *options)
    for fragment in expected:
        assert fragment in report, report
    assert "nothing was changed" in report
    assert database_state() == before


def test_a_file_over_5_mb_is_refused_before_parsing(demo, tmp_path):
    path = tmp_path / "huge.csv"
    row = "kras-2025-2029;2026;po-moc;Drugi stroški;;100,00\n"
    path.write_text("strategija;leto;društvo;kategorija;opis;znesek\n" + row * 120_000)
    assert path.stat().st_size > MAX_FILE_BYTES
    before = database_state()
    report = refused(path)
    assert f"The file huge.csv has {path.stat().st_size} bytes; an import file may have at " in (
        report
    )
    assert database_state() == before
    with pytest.raises(ImportFileError, match="may have at most 5242880 bytes"):
        SpreadsheetCSV().create_dataset(path.read_bytes())


def test_a_reader_may_not_import_into_a_strategy_it_reads(demo):
    before = database_state()
    report = refused(GOOD / "slovenian_excel_2026.csv", "--user", "uradnik.sezana")
    for line in range(2, 7):
        assert (
            f"Line {line}, column “Strategija”: you may not edit the strategy “kras-2025-2029”."
        ) in report
    assert database_state() == before


def test_an_unknown_user_is_refused(demo):
    with pytest.raises(CommandError, match=r"There is no user nihče\."):
        run_import(GOOD / "slovenian_excel_2026.csv", "--user", "nihče")


# --- Amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234.567", "1234567.00"),
        ("1234", "1234.00"),
        ("0,5", "0.50"),
        (" 12,30 ", "12.30"),
        (12.3, "12.30"),
        (1500, "1500.00"),
        (0, "0.00"),
    ],
)
def test_amounts_written_the_slovenian_or_the_english_way_are_the_same(value, expected):
    assert parse_amount(Cell(2, "znesek", value)) == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1,005", "is ambiguous"),
        ("12.345", "is ambiguous"),
        ("1.234,567", "more than two decimals"),
        ("12,3456", "more than two decimals"),
        (12.345, "more than two decimals"),
        (0.1 + 0.2, "more than two decimals"),
        ("-5", "is negative"),
        (-5, "is negative"),
        ("pet", "is not an amount"),
        ("1.23.4", "is not an amount"),
        ("1e5", "is not an amount"),
        (float("nan"), "is not an amount"),
        (True, "is not an amount"),
        ("", "the cell is empty"),
        (None, "the cell is empty"),
        ("1000000000000", "larger than the largest amount"),
    ],
)
def test_a_doubtful_amount_is_refused_never_rounded(value, reason):
    with pytest.raises(CellError, match=reason) as raised:
        parse_amount(Cell(7, "znesek", value))
    assert str(raised.value).startswith("Line 7, column “znesek”:")


# --- Good files ---------------------------------------------------------------------------


def test_the_demo_lines_exported_and_imported_again_change_nothing(demo, persona, tmp_path):
    coordinator = persona("koordinator")
    csv_file = tmp_path / "vrstice.csv"
    csv_file.write_bytes(exported_csv(BudgetLineResource(user=coordinator)))
    xlsx_file = tmp_path / "vrstice.xlsx"
    xlsx_file.write_bytes(exported_xlsx(BudgetLineResource(user=coordinator)))
    before = database_state()
    assert "0 new, 0 updated and 8 unchanged budget lines" in run_import(
        csv_file, "--user", "koordinator"
    )
    assert "0 new, 0 updated and 8 unchanged budget lines" in run_import(xlsx_file)
    assert database_state() == before


def test_the_demo_items_exported_and_imported_again_change_nothing(demo, persona, tmp_path):
    path = tmp_path / "postavke.csv"
    path.write_bytes(exported_csv(BudgetItemResource(user=persona("koordinator"))))
    before = database_state()
    assert "0 new, 0 updated, 6 unchanged and 0 removed budget items" in run_import(path, "--items")
    assert database_state() == before


def test_a_slovenian_excel_file_creates_the_2026_lines(demo):
    output = run_import(GOOD / "slovenian_excel_2026.csv")
    assert "slovenian_excel_2026.csv: 5 new, 0 updated and 0 unchanged budget lines." in output
    lines = {
        (line.association.slug, line.category): line
        for line in BudgetLine.objects.filter(strategy=demo, year=2026)
    }
    assert {key: line.amount for key, line in lines.items()} == {
        ("po-moc", "staff_material"): Decimal("5148.00"),
        ("po-moc", "programme_material"): Decimal("6855.42"),
        ("vezi", "staff"): Decimal("1234.56"),
        ("rk-sezana", "other"): Decimal("12000.00"),
        ("mdpm-sezana", "programme_material"): Decimal("22485.90"),
    }
    assert lines[("po-moc", "staff_material")].note == "usklajeno z rastjo cen"
    history = BudgetLine.history.filter(year=2026)
    assert history.count() == 5
    assert {(h.history_type, h.history_user_id, h.history_change_reason) for h in history} == {
        ("+", None, "import_budget_lines slovenian_excel_2026.csv")
    }


def test_importing_the_same_file_twice_changes_nothing_the_second_time(demo):
    run_import(GOOD / "slovenian_excel_2026.csv")
    before = database_state()
    output = run_import(GOOD / "slovenian_excel_2026.csv")
    assert "0 new, 0 updated and 5 unchanged budget lines" in output
    assert database_state() == before


def test_an_xlsx_file_creates_lines_and_history_records_the_user(demo, persona):
    output = run_import(GOOD / "lines_2026.xlsx", "--user", "koordinator")
    assert "4 new, 0 updated and 0 unchanged budget lines" in output
    amounts = dict(
        BudgetLine.objects.filter(strategy=demo, year=2026).values_list(
            "association__slug", "amount"
        )
    )
    assert amounts == {
        "po-moc": Decimal("1500.00"),
        "vezi": Decimal("12.30"),
        "rk-sezana": Decimal("1234.56"),
        "mdpm-sezana": Decimal("999.99"),
    }
    users = set(BudgetLine.history.filter(year=2026).values_list("history_user", flat=True))
    assert users == {persona("koordinator").pk}


def test_a_changed_amount_updates_the_line_raises_its_version_and_records_history(
    demo, persona, tmp_path
):
    path = tmp_path / "popravek.csv"
    path.write_text(
        "strategija;leto;društvo;kategorija;znesek\n"
        "kras-2025-2029;2025;po-moc;Materialni stroški zaposlenih;5.100,00\n"
        "kras-2025-2029;2025;po-moc;Materialni stroški programa;6721\n",
        encoding="utf-8",
    )
    line = BudgetLine.objects.get(
        strategy=demo, association__slug="po-moc", category="staff_material"
    )
    note = line.note
    output = run_import(path, "--user", "koordinator")
    assert "0 new, 1 updated and 1 unchanged budget lines" in output
    line.refresh_from_db()
    assert (line.amount, line.version, line.note) == (Decimal("5100.00"), 1, note)
    record = line.history.first()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "~",
        persona("koordinator"),
        "import_budget_lines popravek.csv",
    )
    assert line.history.count() == 2


def test_a_dry_run_counts_but_writes_nothing(demo):
    before = database_state()
    output = run_import(GOOD / "slovenian_excel_2026.csv", "--dry-run")
    assert "5 new, 0 updated and 0 unchanged budget lines" in output
    assert "Dry run: nothing was written." in output
    assert database_state() == before


def test_items_replace_rk_sezana_staff_items_with_the_same_sum(demo):
    line = BudgetLine.objects.get(strategy=demo, association__slug="rk-sezana", category="staff")
    secretary, accountant = line.items.order_by("position")
    output = run_import(GOOD / "rk_sezana_staff_items_2025.csv", "--items")
    assert "1 new, 1 updated, 1 unchanged and 0 removed budget items" in output
    items = list(line.items.order_by("position"))
    assert [(i.description, i.pay_grade, i.share_percent, i.amount) for i in items] == [
        (secretary.description, 43, Decimal("60.00"), Decimal("20000.00")),
        (accountant.description, 28, Decimal("100.00"), Decimal("27055.00")),
        ("čistilka", 18, Decimal("25.50"), Decimal("4383.00")),
    ]
    assert [item.version for item in items] == [1, 0, 0]
    assert line.items_total() == line.amount == Decimal("51438.00")
    line.full_clean()
    assert secretary.history.count() == 2 and accountant.history.count() == 1
    before = database_state()
    assert "0 new, 0 updated, 3 unchanged and 0 removed" in run_import(
        GOOD / "rk_sezana_staff_items_2025.csv", "--items"
    )
    assert database_state() == before


def test_items_the_file_leaves_out_are_removed_with_history(demo, tmp_path):
    line = BudgetLine.objects.get(strategy=demo, association__slug="rk-sezana", category="staff")
    secretary, accountant = line.items.order_by("position")
    path = tmp_path / "ena.csv"
    path.write_text(
        "strategy;year;association;category;position;amount\n"
        "kras-2025-2029;2025;rk-sezana;staff;sekretarka in računovodja;51438\n",
        encoding="utf-8",
    )
    assert "1 new, 0 updated, 0 unchanged and 2 removed" in run_import(path, "--items")
    assert list(line.items.values_list("description", "amount")) == [
        ("sekretarka in računovodja", Decimal("51438.00"))
    ]
    removed = BudgetItem.history.filter(history_type="-")
    assert {r.id for r in removed} == {secretary.pk, accountant.pk}
    assert {r.history_change_reason for r in removed} == {"import_budget_lines ena.csv"}


# --- Formula injection and export -------------------------------------------------------


def test_a_formula_in_a_text_cell_is_stored_as_text_and_escaped_on_export(demo, persona, tmp_path):
    run_import(CORPUS / "formula_injection.csv")
    notes = dict(BudgetLine.objects.filter(year=2026).values_list("association__slug", "note"))
    assert notes == {"po-moc": '=HYPERLINK("http://zlo.example/","klik")', "vezi": "@SUM(1+1)"}

    resource = BudgetLineResource(user=persona("koordinator"))
    csv_text = exported_csv(resource).decode("utf-8")
    assert """;"'=HYPERLINK(""http""" in csv_text and ";'@SUM(1+1);" in csv_text
    sheet = openpyxl.load_workbook(io.BytesIO(exported_xlsx(resource))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert (
        "kras-2025-2029",
        2026,
        "po-moc",
        "Drugi stroški",
        '\'=HYPERLINK("http://zlo.example/","klik")',
        Decimal("100"),
    ) == (*rows[-2][:5], Decimal(str(rows[-2][5])))
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    # The escape is undone on import, so that export → import changes nothing.
    path = tmp_path / "izvoz.csv"
    path.write_text(csv_text, encoding="utf-8")
    before = database_state()
    assert "0 new, 0 updated and 10 unchanged" in run_import(path)
    assert database_state() == before


def test_xlsx_export_keeps_numbers_numeric(demo, persona):
    sheet = openpyxl.load_workbook(
        io.BytesIO(exported_xlsx(BudgetItemResource(user=persona("koordinator"))))
    ).active
    header, first = list(sheet.iter_rows(max_row=2))
    assert [c.value for c in header] == [
        "strategija",
        "leto",
        "društvo",
        "kategorija",
        "delovno mesto",
        "plačni razred",
        "delež (%)",
        "znesek",
    ]
    assert [c.data_type for c in first] == ["s", "n", "s", "s", "s", "n", "n", "n"]
    assert (first[1].value, first[5].value, first[7].value) == (2025, 34, 31968)


def test_an_export_holds_only_the_strategies_the_user_may_read(demo, komen_strategy, persona):
    BudgetLine.objects.create(
        strategy=komen_strategy,
        association=Association.objects.get(slug="po-moc"),
        year=2026,
        category="other",
        amount=Decimal("10.00"),
    )

    def strategies(username):
        dataset = BudgetLineResource(user=persona(username)).export()
        return set(dataset["strategija"])

    assert strategies("admin") == {"kras-2025-2029", "obala-2025-2029"}
    assert strategies("uradnik.komen") == {"kras-2025-2029", "obala-2025-2029"}
    assert strategies("uradnik.sezana") == {"kras-2025-2029"}
    assert strategies("zunanji") == set()
    with pytest.raises(ValueError, match="need user= or as_system=True"):
        BudgetLineResource().export()


# --- The admin's path: the resource on its own ---------------------------------------------


def dataset_of(path: Path) -> tablib.Dataset:
    return SpreadsheetCSV().create_dataset(path.read_bytes())


def test_the_admin_preview_reports_every_bad_row_and_writes_nothing(demo, persona):
    before = database_state()
    result = BudgetLineResource().import_data(
        dataset_of(CORPUS / "many_bad_rows.csv"), dry_run=True, user=persona("koordinator")
    )
    assert result.has_validation_errors()
    messages = [m for row in result.invalid_rows for ms in row.error_dict.values() for m in ms]
    assert len(messages) == 4
    assert messages[0].startswith("Line 3, column “leto”: the year 2031")
    # Numbered by the file's lines, as the messages are (the header is line 1).
    assert [row.number for row in result.invalid_rows] == [3, 4, 6, 7]
    assert database_state() == before


def test_a_failed_real_import_from_the_admin_writes_nothing(demo, persona):
    """Even a caller that does not ask for rollback on validation errors gets all or nothing."""
    before = database_state()
    result = BudgetLineResource().import_data(
        dataset_of(CORPUS / "many_bad_rows.csv"),
        dry_run=False,
        user=persona("koordinator"),
        rollback_on_validation_errors=False,
        use_transactions=False,
    )
    assert result.has_validation_errors()
    assert database_state() == before


def test_the_admin_preview_of_a_good_file_counts_rows_and_writes_nothing(demo, persona):
    before = database_state()
    result = BudgetLineResource().import_data(
        dataset_of(GOOD / "slovenian_excel_2026.csv"), dry_run=True, user=persona("koordinator")
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 5
    assert database_state() == before


def test_a_header_problem_is_a_file_error_in_the_admin(demo, persona):
    result = BudgetLineResource().import_data(
        dataset_of(CORPUS / "wrong_header.csv"), dry_run=True, user=persona("admin")
    )
    assert result.has_errors()
    assert "Line 1: the column “iznos” is not known" in str(result.base_errors[0].error)
