"""Importing and exporting allocations of municipal budget items: command, resource, admin.

Every bad file of ``import_corpus/allocations/`` is refused with its line, column and value,
and leaves the allocations exactly as they were.
"""

import csv
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from funding.models import Allocation, Membership, MunicipalBudgetItem, Municipality, Reallocation
from funding.resources import AllocationResource
from funding.roles import OFFICER
from programs.models import AnnualReport
from tests.funding.spreadsheets import (
    command_output,
    command_refusal,
    exported_csv,
    exported_xlsx,
)
from tests.pages import open_form

CORPUS = Path(__file__).parent / "import_corpus" / "allocations"
GOOD = CORPUS / "good"
LAS = "LAS – Program za boj proti drogi"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in English; the other engineer translates them."""
    with translation.override("en"):
        yield


@pytest.fixture
def items(demo) -> dict[str, MunicipalBudgetItem]:
    """Sežana's and Komen's 2025 items; Programi društev has 11.000,00 available."""
    sezana, komen = (Municipality.objects.get(slug=slug) for slug in ("sezana", "komen"))
    programmes = MunicipalBudgetItem.objects.create(
        municipality=sezana,
        year=2025,
        code="18029001",
        name="Programi društev",
        adopted_amount=Decimal("10000.00"),
    )
    youth = MunicipalBudgetItem.objects.create(
        municipality=sezana,
        year=2025,
        code="18059002",
        name="Mladinski programi",
        adopted_amount=Decimal("5000.00"),
    )
    Reallocation.objects.create(
        source=youth, target=programmes, amount=Decimal("1000.00"), reason="več prijav"
    )
    Allocation.objects.create(
        item=programmes,
        recipient="Društvo PO MOČ Sežana",
        planned_amount=Decimal("2500.00"),
        realised_amount=Decimal("2000.00"),
    )
    culture = MunicipalBudgetItem.objects.create(
        municipality=komen,
        year=2025,
        code="18029001",
        name="Kulturni programi",
        adopted_amount=Decimal("3000.00"),
    )
    Allocation.objects.create(item=culture, recipient="KD Komen", realised_amount=Decimal("500"))
    return {"programmes": programmes, "youth": youth, "culture": culture}


@pytest.fixture
def velenje_officer(demo):
    """An officer of Velenje, whose 2024 items come with the demo data."""
    user, _created = get_user_model().objects.get_or_create(
        username="uradnik.velenje", defaults={"is_staff": True}
    )
    user.groups.add(Group.objects.get(name=OFFICER))
    Membership.objects.get_or_create(
        user=user, municipality=Municipality.objects.get(slug="velenje")
    )
    return user


def allocations():
    """Every allocation with all its fields."""
    return list(Allocation.objects.order_by("pk").values())


def amounts(item) -> dict[str, tuple]:
    return {
        a.recipient: (a.planned_amount, a.realised_amount, a.position)
        for a in item.allocations.all()
    }


def run_import(path, *options) -> str:
    return command_output("import_allocations", path, *options)


def refused(path, *options) -> str:
    return command_refusal("import_allocations", path, *options)


# file, options, what the report must say (line, column and value)
BAD_FILES = {
    "missing_header_column.csv": (
        [],
        [
            "Line 1: the column “znesek” is not known",
            "Line 1: the required column “realizirano” is missing",
        ],
    ),
    "text_amount.csv": ([], ["Line 3, column “realizirano”: “sto evrov” is not an amount"]),
    "negative_amount.csv": (
        [],
        ["Line 2, column “realizirano”: the amount “-100,00” is negative"],
    ),
    "three_decimals.csv": (
        [],
        ["Line 2, column “načrtovano”: the amount “1.234,567” has more than two decimals"],
    ),
    "ambiguous_amount.csv": (
        [],
        ["Line 2, column “realizirano”: the amount “1,005” is ambiguous"],
    ),
    "empty_cells.csv": (
        [],
        [
            "Line 2, column “prejemnik”: the cell is empty, but a value is required.",
            "Line 3, column “realizirano”: the cell is empty, but a value is required.",
            "Line 4, column “leto”: the cell is empty, but a value is required.",
            "Line 4, column “postavka”: the cell is empty, but a value is required.",
            "(4 problems)",
        ],
    ),
    "duplicate_rows.csv": (
        [],
        [
            "Line 3 repeats line 2: the budget item “Programi društev (Sežana, 2025)” has the "
            "recipient “RDEČI  KRIŽ” twice in the file."
        ],
    ),
    "unknown_item.csv": (
        [],
        [
            "Line 2, column “postavka”: the municipality “Sežana” has no budget item “Šport” in "
            "year 2025; create the budget item first.",
            "Line 3, column “postavka”: the municipality “Sežana” has no budget item “Programi "
            "društev” in year 2024",
        ],
    ),
    "unknown_municipality.csv": (
        [],
        [
            "Line 2, column “občina”: there is no municipality “ljubljana” whose allocations "
            "you may change; give its slug or short name."
        ],
    ),
    "other_municipality.csv": (
        ["--user", "uradnik.sezana"],
        [
            "Line 2, column “občina”: there is no municipality “komen” whose allocations you "
            "may change; give its slug or short name.",
            "Line 3, column “občina”: there is no municipality “Velenje” whose allocations you "
            "may change; give its slug or short name.",
            "(2 problems)",
        ],
    ),
    "above_available.csv": (
        [],
        [
            "Line 3, column “realizirano”: with “4.500,01” the realised allocations of the "
            "budget item “Programi društev (Sežana, 2025)” add up to 11,500.01 EUR, more than "
            "the 11,000.00 EUR available (adopted 10,000.00 EUR plus or minus reallocations); "
            "record a reallocation first.",
            "(1 problems)",
        ],
    ),
    "many_bad_rows.csv": (
        [],
        [
            "Line 3, column “postavka”: the municipality “Sežana” has no budget item “Programi "
            "društev” in year 2031",
            "Line 3, column “realizirano”: the amount “1,005” is ambiguous",
            "Line 5, column “načrtovano”: the amount “-5” is negative",
            "Line 6 repeats line 2",
            "(4 problems)",
        ],
    ),
}


def test_the_corpus_has_a_test_for_every_bad_file():
    bad_files = {path.name for path in CORPUS.iterdir() if path.is_file()} - {"README.md"}
    assert bad_files == set(BAD_FILES)


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_is_refused_with_line_column_and_value_and_writes_nothing(items, name):
    options, expected = BAD_FILES[name]
    before = allocations()
    report = refused(CORPUS / name, *options)
    for fragment in expected:
        assert fragment in report, report
    assert "nothing was changed" in report
    assert allocations() == before


def test_a_member_without_the_right_to_change_allocations_is_refused(items):
    before = allocations()
    report = refused(GOOD / "sezana_2025.csv", "--user", "svetnik.sezana")
    for line, value in ((2, "sezana"), (3, "Sežana"), (5, "sezana")):
        assert (
            f"Line {line}, column “Občina”: you may not change the allocations of the "
            f"municipality “{value}”."
        ) in report
    assert allocations() == before


# --- Good files -----------------------------------------------------------------------------


def test_a_slovenian_csv_updates_and_creates_allocations(items):
    output = run_import(GOOD / "sezana_2025.csv", "--user", "uradnik.sezana")
    assert "sezana_2025.csv: 2 new, 1 updated and 0 unchanged allocations." in output
    assert amounts(items["programmes"]) == {
        "Društvo PO MOČ Sežana": (Decimal("2500.00"), Decimal("2100.50"), 0),
        "Rdeči križ Slovenije, OZ Sežana": (None, Decimal("1234.56"), 1),
    }
    assert amounts(items["youth"]) == {
        "Mladinski center Sežana": (Decimal("4000.00"), Decimal("3999.99"), 0)
    }
    assert amounts(items["culture"]) == {"KD Komen": (None, Decimal("500.00"), 0)}
    for allocation in Allocation.objects.filter(item__municipality__slug="sezana"):
        allocation.full_clean()  # the model's own rules hold for what the import wrote


def test_importing_the_same_file_twice_changes_nothing_the_second_time(items):
    run_import(GOOD / "sezana_2025.csv")
    before = allocations()
    output = run_import(GOOD / "sezana_2025.csv")
    assert "0 new, 0 updated and 3 unchanged allocations" in output
    assert allocations() == before


def test_a_dry_run_counts_but_writes_nothing(items):
    before = allocations()
    output = run_import(GOOD / "sezana_2025.csv", "--dry-run")
    assert "2 new, 1 updated and 0 unchanged allocations" in output
    assert "Dry run: nothing was written." in output
    assert allocations() == before


def write_xlsx(path: Path, rows: list[list]) -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def velenje_file(tmp_path):
    return write_xlsx(
        tmp_path / "velenje.xlsx",
        [
            ["Municipality", "Year", "Budget item", "Recipient", "Realised"],
            ["velenje", 2024, LAS, "Šola za starše", 1600.5],
            ["velenje", 2024, LAS, "Nov projekt", 250],
            [None, None, None, None, None],
            ["Velenje", 2024, "Mladinski center Velenje", "Preventivni projekti MC Velenje", 4500],
        ],
    )


def test_an_import_into_a_published_reports_realisation_is_refused(velenje_officer, tmp_path):
    las = MunicipalBudgetItem.objects.get(name=LAS)
    before = amounts(las)
    problems = refused(velenje_file(tmp_path), "--user", "uradnik.velenje")
    assert "Line 2, column “Budget item”" in problems
    assert "is part of the published report" in problems
    assert amounts(las) == before


def test_an_officer_of_velenje_imports_an_xlsx_with_english_headers(velenje_officer, tmp_path):
    las = MunicipalBudgetItem.objects.get(name=LAS)
    before = amounts(las)
    path = velenje_file(tmp_path)
    # As before the Velenje report was published: then its realisation may still change.
    report = las.annual_reports.get()
    AnnualReport.objects.filter(pk=report.pk).update(status=AnnualReport.Status.SUBMITTED)
    output = run_import(path, "--user", "uradnik.velenje")
    assert "velenje.xlsx: 1 new, 1 updated and 1 unchanged allocations." in output
    after = amounts(las)
    assert after.pop("Šola za starše") == (None, Decimal("1600.50"), 3)
    assert after.pop("Nov projekt") == (None, Decimal("250.00"), 7)
    del before["Šola za starše"]
    assert after == before  # the allocations the file does not name stay as they were

    unchanged = allocations()
    assert "0 new, 0 updated and 3 unchanged" in run_import(path, "--user", "uradnik.velenje")
    assert allocations() == unchanged


def test_an_officer_of_sezana_cannot_import_into_velenje(velenje_officer, tmp_path):
    path = write_xlsx(
        tmp_path / "velenje.xlsx",
        [
            ["občina", "leto", "postavka", "prejemnik", "realizirano"],
            ["velenje", 2024, LAS, "X", 1],
        ],
    )
    before = allocations()
    assert (
        "Line 2, column “občina”: there is no municipality “velenje” whose allocations you may "
        "change; give its slug or short name."
    ) in refused(path, "--user", "uradnik.sezana")
    assert allocations() == before


def test_an_xlsx_number_cell_with_three_decimals_is_refused(items, tmp_path):
    path = write_xlsx(
        tmp_path / "decimals.xlsx",
        [
            ["občina", "leto", "postavka", "prejemnik", "realizirano"],
            ["sezana", 2025, "Programi društev", "Vezi", 12.3],
            ["sezana", 2025, "Programi društev", "MDPM", 12.345],
        ],
    )
    before = allocations()
    report = refused(path)
    assert "Line 3, column “realizirano”: the amount “12.345” has more than two decimals" in report
    assert allocations() == before


# --- Export ---------------------------------------------------------------------------------


def test_every_allocation_exported_and_imported_again_changes_nothing(items, persona, tmp_path):
    admin = persona("admin")
    csv_file = tmp_path / "dodelitve.csv"
    csv_file.write_bytes(exported_csv(AllocationResource(user=admin)))
    xlsx_file = tmp_path / "dodelitve.xlsx"
    xlsx_file.write_bytes(exported_xlsx(AllocationResource(user=admin)))
    before = allocations()
    assert len(before) == 10
    assert "0 new, 0 updated and 10 unchanged allocations" in run_import(csv_file)
    assert "0 new, 0 updated and 10 unchanged allocations" in run_import(
        xlsx_file, "--user", "admin"
    )
    assert allocations() == before


def test_an_export_holds_only_the_users_municipalities(items, persona, velenje_officer):
    def municipalities(user):
        return set(AllocationResource(user=user).export()["občina"])

    assert municipalities(persona("admin")) == {"sezana", "komen", "velenje"}
    assert municipalities(persona("uradnik.sezana")) == {"sezana"}
    assert municipalities(persona("referent.sezana")) == {"sezana"}
    assert municipalities(persona("uradnik.komen")) == {"komen"}
    assert municipalities(velenje_officer) == {"velenje"}
    assert municipalities(persona("zunanji")) == set()
    with pytest.raises(ValueError, match="need user= or as_system=True"):
        AllocationResource().export()


def test_a_formula_is_stored_as_text_and_escaped_on_export(items, persona, tmp_path):
    path = tmp_path / "formula.csv"
    path.write_text(
        "občina;leto;postavka;prejemnik;realizirano\n"
        'sezana;2025;Programi društev;"=HYPERLINK(""http://zlo.example/"",""klik"")";10\n',
        encoding="utf-8",
    )
    run_import(path)
    recipient = '=HYPERLINK("http://zlo.example/","klik")'
    assert items["programmes"].allocations.filter(recipient=recipient).exists()

    resource = AllocationResource(user=persona("uradnik.sezana"))
    assert ';"\'=HYPERLINK(""http' in exported_csv(resource).decode("utf-8")
    sheet = openpyxl.load_workbook(io.BytesIO(exported_xlsx(resource))).active
    header, *rows = list(sheet.iter_rows())
    assert [c.value for c in header] == [
        "občina",
        "leto",
        "postavka",
        "prejemnik",
        "načrtovano",
        "realizirano",
    ]
    assert all(cell.data_type != "f" for row in rows for cell in row)
    escaped = next(row for row in rows if row[3].value == "'" + recipient)
    assert [c.data_type for c in escaped] == ["s", "n", "s", "s", "n", "n"]
    assert Decimal(str(escaped[5].value)) == Decimal("10")


# --- Admin ----------------------------------------------------------------------------------

CSV_UPLOAD = (
    "občina;leto;postavka;prejemnik;načrtovano;realizirano\r\n"
    "sezana;2025;18059002;Mladinski center Sežana;1.000,00;750,25\r\n"
).encode("utf-8-sig")


def upload(client, content, name="dodelitve.csv"):
    """Choose the CSV format and the file on the import page, and submit it."""
    form = open_form(client, reverse("admin:funding_allocation_import"), field="import_file")
    form.choose("format", "csv")
    return form.submit(files={"import_file": SimpleUploadedFile(name, content)})


def test_an_officer_previews_then_confirms_an_import_in_the_admin(items, persona, client):
    client.force_login(persona("uradnik.sezana"))
    preview = upload(client, CSV_UPLOAD)
    assert preview.status_code == 200
    assert preview.context.get("confirm_form") is not None, preview.content.decode()[:3000]
    assert not items["youth"].allocations.exists()  # the preview writes nothing

    url = reverse("admin:funding_allocation_import")
    done = open_form(client, url, button="confirm", response=preview).submit("confirm")
    assert done.status_code == 302
    assert amounts(items["youth"]) == {
        "Mladinski center Sežana": (Decimal("1000.00"), Decimal("750.25"), 0)
    }


def test_the_admin_preview_refuses_another_municipalitys_rows(items, persona, client):
    client.force_login(persona("uradnik.sezana"))
    before = allocations()
    bad = CSV_UPLOAD + b"komen;2025;Kulturni programi;KD Komen;;1,00\r\n"
    response = upload(client, bad)
    assert response.context.get("confirm_form") is None
    assert [row.number for row in response.context["result"].invalid_rows] == [3]
    assert allocations() == before


def test_the_allocation_list_and_export_show_only_the_officers_municipality(items, persona, client):
    client.force_login(persona("uradnik.komen"))
    listing = client.get(reverse("admin:funding_allocation_changelist"))
    assert listing.status_code == 200
    assert {a.recipient for a in listing.context["cl"].queryset} == {"KD Komen"}
    form = open_form(client, reverse("admin:funding_allocation_export"), field="format")
    form.check("allocationresource_planned_amount", False)  # every column but the planned
    response = form.choose("format", "csv").submit()
    assert response.status_code == 200, response.content.decode()[:2000]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["občina", "leto", "postavka", "prejemnik", "realizirano"],
        ["komen", "2025", "Kulturni programi", "KD Komen", "500,00"],
    ]


def test_a_clerk_cannot_import_allocations(items, persona, client):
    client.force_login(persona("referent.sezana"))
    url = reverse("admin:funding_allocation_import")
    assert client.get(url).status_code == 403
    # Forged: the upload a clerk could send by hand to the page refused to them.
    forged = {"import_file": SimpleUploadedFile("dodelitve.csv", CSV_UPLOAD), "format": "0"}
    assert client.post(url, forged).status_code == 403
    assert not items["youth"].allocations.exists()
