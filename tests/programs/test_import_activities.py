"""Importing activities of action plans from CSV or XLSX: command, resource, admin.

Every bad file of ``import_corpus/activities/`` is refused with its line, column and value, and
leaves the action plans exactly as they were.
"""

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from programs.models import Activity
from programs.resources import ActivityResource
from tests.funding.spreadsheets import command_output, command_refusal, exported_csv
from tests.pages import open_form
from tests.programs.test_action_plans import responsible, snapshot

CORPUS = Path(__file__).parent / "import_corpus" / "activities"
GOOD = CORPUS / "good"
CHAPTER = "Preventiva v vzgoji in izobraževanju"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in English; the lead translates them."""
    with translation.override("en"):
        yield


def run_import(path, *options) -> str:
    return command_output("import_activities", path, *options)


def refused(path, *options) -> str:
    return command_refusal("import_activities", path, *options)


# file, what the report must say (line, column and value)
BAD_FILES = {
    "period_outside_plan.csv": [
        "Line 2, column “obdobja”: 2021-1 is not in the plan's period 2019–2020.",
        "(1 problems)",
    ],
    "bad_period_code.csv": [
        "Line 3, column “obdobja”: “2019-3” is not a half-year; write the year and 1 or 2, "
        "as 2019-2. “2020/1” is not a half-year",
    ],
    "period_twice.csv": ["Line 2, column “obdobja”: 2019-2 is given twice."],
    "no_lead.csv": [
        "Line 3, column “nosilec”: the activity has no lead institution; name exactly one by "
        "its short name.",
        "(1 problems)",
    ],
    "missing_lead_column.csv": [
        "Line 1: the required column “nosilec” is missing",
    ],
    "unknown_institution.csv": [
        "Line 2, column “nosilec”: there is no institution “Zavod za šolstvo”; give its short "
        "name as the register of institutions has it.",
        "Line 2, column “partnerji”: there is no institution “Univerze”",
        "(2 problems)",
    ],
    "unknown_plan.csv": [
        "Line 2, column “načrt”: there is no action plan “droge-2021-2022”; give its slug or "
        "title.",
    ],
    "duplicate_row.csv": [
        "Line 3 repeats line 2: the activity “PRIPRAVE izobraževalnih programov preventive na "
        "področju …” appears twice in the same objective.",
    ],
    "lead_among_partners.csv": [
        "Line 2, column “partnerji”: “nijz” is named twice among the activity's institutions",
    ],
    "many_bad_rows.csv": [
        "Line 2, column “aktivnost”: the cell is empty, but a value is required.",
        "Line 4, column “poglavje”: the cell is empty, but a value is required.",
        "Line 4, column “obdobja”: the cell is empty, but a value is required.",
        "(3 problems)",
    ],
}


def test_the_corpus_has_a_test_for_every_bad_file():
    bad_files = {path.name for path in CORPUS.iterdir() if path.is_file()} - {"README.md"}
    assert bad_files == set(BAD_FILES)


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_is_refused_with_line_column_and_value_and_writes_nothing(demo, name):
    before = snapshot()
    report = refused(CORPUS / name, "--user", "koordinator")
    for fragment in BAD_FILES[name]:
        assert fragment in report, report
    assert "nothing was changed" in report
    assert snapshot() == before


def test_a_reader_may_not_import_activities(demo):
    before = snapshot()
    report = refused(GOOD / "preventiva_v_solah.csv", "--user", "svetnik.sezana")
    assert "You may not import activities of action plans." in report
    assert snapshot() == before


# --- Good files -------------------------------------------------------------------------------


def test_a_slovenian_csv_adds_a_chapter_with_its_activities(demo):
    output = run_import(GOOD / "preventiva_v_solah.csv", "--user", "koordinator")
    assert "preventiva_v_solah.csv: 3 new, 0 updated and 0 unchanged activities." in output
    added = Activity.objects.filter(objective__chapter__title=CHAPTER).order_by("position")
    assert [(a.position, a.periods) for a in added] == [
        (0, "2019-2"),
        (1, "2019-1 2019-2 2020-1 2020-2"),
        (2, "2019-2 2020-2"),
    ]
    chapter = added[0].objective.chapter
    assert (chapter.plan.slug, chapter.position) == ("droge-2019-2020", 3)
    assert chapter.objectives.count() == 1
    assert responsible(added[0]) == [
        ("NIJZ", True),
        ("MIZŠ", False),
        ("URSM", False),
        ("MDDSZEM", False),
        ("NVO", False),
    ]
    assert responsible(added[2]) == [
        ("NIJZ", True),
        ("MIZŠ", False),
        ("MDDSZEM", False),
        ("NVO", False),
    ]
    for activity in added:
        activity.full_clean()


def test_importing_the_same_file_twice_changes_nothing_the_second_time(demo):
    run_import(GOOD / "preventiva_v_solah.csv")
    before = snapshot()
    output = run_import(GOOD / "preventiva_v_solah.csv")
    assert "0 new, 0 updated and 3 unchanged activities" in output
    assert snapshot() == before


def test_a_row_updates_an_existing_activity(demo):
    output = run_import(GOOD / "update_existing.csv", "--user", "uradnik.sezana")
    assert "0 new, 1 updated and 0 unchanged activities" in output
    activity = Activity.objects.get(text__startswith="Imenovanje delovne skupine za pripravo")
    assert activity.periods == "2020-1 2020-2"
    assert responsible(activity) == [("Komisija za droge", True), ("MZ", False)]
    assert Activity.objects.count() == 37


def test_a_dry_run_counts_but_writes_nothing(demo):
    before = snapshot()
    output = run_import(GOOD / "preventiva_v_solah.csv", "--dry-run")
    assert "3 new, 0 updated and 0 unchanged activities" in output
    assert "Dry run: nothing was written." in output
    assert snapshot() == before


def _workbook(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER = ["načrt", "poglavje", "cilj", "aktivnost", "obdobja", "nosilec", "partnerji"]
XLSX_ROW = [
    "droge-2019-2020",
    CHAPTER,
    "Krepitev preventive v šolah",
    "Izobraževanje učiteljev",
    "2020-1",
    "NIJZ",
    "MIZŠ\nNVO",
]


def test_an_xlsx_file_imports_with_partners_on_lines_of_their_own(demo, tmp_path):
    path = tmp_path / "aktivnosti.xlsx"
    path.write_bytes(_workbook([HEADER, XLSX_ROW]))
    assert "1 new, 0 updated" in run_import(path)
    activity = Activity.objects.get(text="Izobraževanje učiteljev")
    assert responsible(activity) == [("NIJZ", True), ("MIZŠ", False), ("NVO", False)]


def upload_file(client, upload: SimpleUploadedFile):
    """Choose the XLSX format and the file on the import page, and submit it."""
    form = open_form(client, reverse("admin:programs_activity_import"), field="import_file")
    return form.choose("format", "xlsx").submit(files={"import_file": upload})


def test_the_admin_previews_then_imports(demo, persona, client):
    client.force_login(persona("koordinator"))
    upload = SimpleUploadedFile(
        "aktivnosti.xlsx", _workbook([HEADER, XLSX_ROW]), content_type="application/octet-stream"
    )
    before = snapshot()
    preview = upload_file(client, upload)
    assert preview.status_code == 200
    assert snapshot() == before, "the preview writes nothing"
    url = reverse("admin:programs_activity_import")
    response = open_form(client, url, button="confirm", response=preview).submit("confirm")
    assert response.status_code == 302
    assert Activity.objects.filter(text="Izobraževanje učiteljev").exists()


def test_the_admin_shows_a_bad_files_problems_and_writes_nothing(demo, persona, client):
    client.force_login(persona("koordinator"))
    row = [*XLSX_ROW[:4], "2021-1", "", "Univerze"]
    upload = SimpleUploadedFile("slabo.xlsx", _workbook([HEADER, row]))
    before = snapshot()
    page = upload_file(client, upload)
    text = page.content.decode()
    # The admin speaks Slovenian.
    assert "2021-1 ni v obdobju načrta 2019–2020." in text
    assert "aktivnost nima nosilne institucije" in text
    assert "institucije »Univerze« ni" in text
    assert snapshot() == before


def test_the_exported_activities_import_back_unchanged(demo, tmp_path):
    path = tmp_path / "aktivnosti.csv"
    path.write_bytes(exported_csv(ActivityResource(as_system=True)))
    header = path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == (
        "načrt;poglavje;cilj;aktivnost;obdobja;pričakovani rezultati;nosilec;partnerji"
    )
    before = snapshot()
    assert "0 new, 0 updated and 37 unchanged activities" in run_import(path)
    assert snapshot() == before
