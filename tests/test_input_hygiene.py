"""Input hygiene: digits of other scripts, bidi control characters, words longer than a line.

Python's ``int()`` and ``Decimal()`` read any Unicode decimal digit (Arabic-Indic 123 is 123)
and the regular expressions' ``\\d`` matches them; every path that reads a number from a user must
refuse them like any other non-number. A right-to-left override (U+202E) typed into a name
reverses the rest of the line in every document; documents show the text without it. A word
longer than a line (a pasted URL, a key) must wrap inside the page, not run off it.
"""

import io
import json
from pathlib import Path

import pytest
import weasyprint
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.db import models
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader
from weasyprint.formatting_structure import boxes

from funding.amounts import AmountSyntaxError, parse_amount_text
from funding.forms import LocalizedDecimalField, WholeNumberField
from funding.models import BudgetItem, BudgetLine, FundingStrategy, InKindSupport
from programs.models import (
    ActionPlan,
    Activity,
    AnnualReport,
    Association,
    Programme,
    ReportSection,
    parse_periods,
)
from tests.funding.spreadsheets import command_refusal
from tests.pages import admin_change_form

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).parents[1]


def arabic(text: str) -> str:
    """The text with its digits 0–9 written as Arabic-Indic digits (U+0660…)."""
    return text.translate({ord("0") + i: 0x0660 + i for i in range(10)})


def fullwidth(text: str) -> str:
    """The text with its digits 0–9 written as fullwidth digits (U+FF10…)."""
    return text.translate({ord("0") + i: 0xFF10 + i for i in range(10)})


FOREIGN = [arabic("123,45"), fullwidth("123,45"), arabic("2027")]
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
LONG_WORD = "Dolgabeseda" * 27 + "kon"  # 300 characters (a name's most), no place to break


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- Numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", FOREIGN)
def test_the_amount_reader_refuses_digits_of_other_scripts(typed):
    with pytest.raises(AmountSyntaxError):
        parse_amount_text(typed)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("1.234,56", "1234.56"), ("1234,56", "1234.56"), ("1234.56", "1234.56"), (" 2027 ", "2027")],
)
def test_the_amount_reader_still_reads_what_officers_type(typed, meant):
    assert str(parse_amount_text(typed)) == meant


@pytest.fixture
def coordinator(demo, persona, client):
    client.force_login(persona("koordinator"))
    return client


@pytest.fixture
def superuser(demo, persona, client):
    client.force_login(persona("admin"))
    return client


def budget_line() -> BudgetLine:
    return BudgetLine.objects.get(association__slug="po-moc", category="programme_material")


@pytest.mark.parametrize("typed", FOREIGN)
def test_the_budget_line_page_refuses_a_foreign_amount_quoting_it(coordinator, typed):
    line = budget_line()
    before = list(BudgetLine.objects.values())
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    response = admin_change_form(coordinator, url).set("amount", typed).submit("_save")
    assert response.status_code == 200
    assert f"„{typed}“ ni število" in " ".join(response.context["adminform"].form.errors["amount"])
    assert list(BudgetLine.objects.values()) == before


@pytest.mark.parametrize("typed", FOREIGN)
def test_the_budget_line_page_refuses_a_foreign_year_quoting_it(coordinator, typed):
    line = budget_line()
    before = list(BudgetLine.objects.values())
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    response = admin_change_form(coordinator, url).set("year", typed).submit("_save")
    assert response.status_code == 200
    assert f"„{typed}“ ni celo število" in " ".join(
        response.context["adminform"].form.errors["year"]
    )
    assert list(BudgetLine.objects.values()) == before


@pytest.mark.parametrize("typed", ["2026", " 2026 "])
def test_the_budget_line_page_still_takes_an_ordinary_year(coordinator, typed):
    line = budget_line()
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    response = admin_change_form(coordinator, url).set("year", typed).submit("_save")
    assert response.status_code == 302, response.context["adminform"].form.errors
    line.refresh_from_db()
    assert line.year == 2026


@pytest.fixture
def draft_report(demo) -> AnnualReport:
    published = AnnualReport.objects.get(association__slug="las-velenje", year=2024)
    draft = AnnualReport.objects.create(
        association=published.association, year=2025, title="Poročilo 2025"
    )
    draft.municipalities.set(published.municipalities.all())
    return draft


@pytest.mark.parametrize("typed", FOREIGN)
@pytest.mark.parametrize("field", ["year", "users", "volunteers"])
def test_the_annual_report_page_refuses_foreign_counts_and_years(
    superuser, draft_report, field, typed
):
    before = list(AnnualReport.objects.values())
    url = reverse("admin:programs_annualreport_change", args=[draft_report.pk])
    response = admin_change_form(superuser, url).set(field, typed).submit("_save")
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors[field])
    assert f"„{typed}“ ni celo število" in errors
    assert list(AnnualReport.objects.values()) == before


@pytest.mark.parametrize("typed", FOREIGN)
def test_the_programme_page_refuses_a_foreign_year(superuser, typed):
    programme = Programme.objects.order_by("pk").first()
    before = list(Programme.objects.values())
    url = reverse("admin:programs_programme_change", args=[programme.pk])
    response = admin_change_form(superuser, url).set("start_year", typed).submit("_save")
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["start_year"])
    assert f"„{typed}“ ni celo število" in errors
    assert list(Programme.objects.values()) == before


def test_the_association_page_refuses_a_registration_number_in_other_digits(superuser):
    association = Association.objects.get(slug="po-moc")
    before = list(Association.objects.values())
    url = reverse("admin:programs_association_change", args=[association.pk])
    form = admin_change_form(superuser, url).set("registration_number", arabic("1234567"))
    response = form.set("tax_number", fullwidth("12345678")).submit("_save")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"registration_number", "tax_number"}
    assert list(Association.objects.values()) == before


def admin_classes():
    """Every registered admin and every inline it shows."""
    for model, model_admin in admin.site._registry.items():
        yield model, model_admin
        for inline_class in model_admin.inlines:
            yield inline_class.model, inline_class(model, admin.site)


def test_every_admin_reads_numbers_as_typed_in_ascii_digits():
    wrong = []
    for model, model_admin in admin_classes():
        for db_field in model._meta.get_fields():
            if not isinstance(db_field, models.IntegerField | models.DecimalField):
                continue
            if isinstance(db_field, models.AutoField) or not db_field.editable:
                continue
            if db_field.name in model_admin.readonly_fields:
                continue
            formfield = model_admin.formfield_for_dbfield(db_field, request=None)
            expected = (
                LocalizedDecimalField
                if isinstance(db_field, models.DecimalField)
                else WholeNumberField
            )
            if not isinstance(formfield, expected):
                wrong.append(f"{type(model_admin).__name__}: {model.__name__}.{db_field.name}")
    assert not wrong


@pytest.fixture
def english():
    with translation.override("en"):
        yield


# Each value would be in range, were its digits 0–9.
@pytest.mark.parametrize(
    ("column", "typed"),
    [
        ("year", arabic("2027")),
        ("year", fullwidth("2027")),
        *(("amount", typed) for typed in FOREIGN),
        ("grade", arabic("30")),
        ("grade", fullwidth("30")),
        ("share", arabic("50")),
        ("share", fullwidth("50,5")),
    ],
)
def test_the_budget_line_import_refuses_foreign_digits(demo, english, tmp_path, column, typed):
    cells = {"year": "2027", "amount": "100,00", "grade": "30", "share": "50", column: typed}
    path = tmp_path / "lines.csv"
    if column in ("year", "amount"):
        path.write_text(
            "strategija;leto;društvo;kategorija;opis;znesek\n"
            "kras-2025-2029;{year};po-moc;Drugi stroški;;{amount}\n".format(**cells),
            encoding="utf-8",
        )
        options = ()
    else:
        path.write_text(
            "strategija;leto;društvo;kategorija;delovno mesto;plačni razred;delež (%);znesek\n"
            "kras-2025-2029;2025;vezi;Stroški zaposlenih;tajnica;{grade};{share};10,00\n".format(
                **cells
            ),
            encoding="utf-8",
        )
        options = ("--items",)
    before = list(BudgetLine.objects.values()), list(BudgetItem.objects.values())
    said = command_refusal("import_budget_lines", path, *options)
    assert f"“{typed}”" in said
    assert (list(BudgetLine.objects.values()), list(BudgetItem.objects.values())) == before


@pytest.mark.parametrize("typed", [arabic("2025"), fullwidth("2025")])
def test_the_cost_sharing_command_refuses_a_foreign_year(demo, english, tmp_path, typed):
    target = tmp_path / "table.json"
    with pytest.raises(CommandError) as refused:
        call_command(
            "cost_sharing_table",
            "kras-2025-2029",
            "--year",
            typed,
            "--format",
            "json",
            "--output",
            str(target),
        )
    assert f"“{typed}” is not a whole number" in str(refused.value)
    assert not target.exists()


@pytest.mark.parametrize("typed", [arabic("123.45"), fullwidth("123.45"), arabic("2027")])
def test_the_strategy_import_refuses_foreign_digits_in_amounts(db, english, tmp_path, typed):
    document = json.loads((ROOT / "fixtures" / "kras-2025-2029.json").read_text("utf-8"))
    document["associations"][0]["lines"][0]["amount"] = typed
    path = tmp_path / "strategy.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_strategy", str(path), stdout=io.StringIO(), stderr=err)
    assert f'"{typed}" is not a decimal number' in err.getvalue()
    assert not FundingStrategy.objects.exists()


def test_a_half_year_in_other_digits_is_not_a_half_year(demo):
    plan = ActionPlan.objects.first()
    code = arabic(plan.periods[0])
    with pytest.raises(Exception) as refused:
        parse_periods(code, plan=plan)
    assert [error.code for error in refused.value.error_list] == ["bad_period"]


@pytest.mark.parametrize("year", [arabic("2025"), fullwidth("2025")])
def test_a_report_url_with_foreign_digits_is_not_found(coordinator, year):
    response = coordinator.get(f"/reports/strategies/kras-2025-2029/{year}/cost-sharing/")
    assert response.status_code == 404


# --- Bidi control characters ------------------------------------------------------------


def shows_no_bidi_control(text: str) -> bool:
    return not set(text) & set(BIDI_CONTROLS)


def test_a_right_to_left_override_typed_in_the_admin_shows_in_no_document(superuser):
    association = Association.objects.get(slug="las-velenje")
    url = reverse("admin:programs_association_change", args=[association.pk])
    form = admin_change_form(superuser, url)
    form.set("short_name", "\u202eABC\u202c")
    response = form.set("name", "\u2067Društvo ABC\u2069 Velenje\u200f").submit("_save")
    assert response.status_code == 302
    association.refresh_from_db()
    assert association.short_name == "\u202eABC\u202c"  # stored as typed, shown without
    report = AnnualReport.objects.get(association=association, year=2024)
    page = superuser.get(reverse("reports:annual-report", args=[report.pk])).content.decode()
    assert "Društvo ABC Velenje" in page
    assert shows_no_bidi_control(page)
    pdf = pdf_text(
        superuser.get(reverse("reports:annual-report-file", args=[report.pk, "pdf"])).content
    )
    assert "ABC" in pdf
    assert shows_no_bidi_control(pdf)


def test_a_bidi_control_in_a_strategy_shows_in_no_cost_sharing_document(superuser, tmp_path):
    Association.objects.filter(slug="po-moc").update(short_name="\u202eABC")
    page = superuser.get(reverse("reports:cost-sharing", args=["kras-2025-2029", 2025]))
    pdf = superuser.get(reverse("reports:cost-sharing-file", args=["kras-2025-2029", 2025, "pdf"]))
    target = tmp_path / "table.html"
    call_command("cost_sharing_table", "kras-2025-2029", "--year", "2025", "--output", str(target))
    annex = superuser.get(reverse("reports:strategy-annex", args=["kras-2025-2029"]))
    for text in (
        page.content.decode(),
        pdf_text(pdf.content),
        target.read_text("utf-8"),
        pdf_text(annex.content),
    ):
        assert "ABC" in text
        assert shows_no_bidi_control(text)


# --- Long words -------------------------------------------------------------------------


@pytest.fixture
def laid_out(monkeypatch):
    """The WeasyPrint documents the views lay out (rendered as they are, then kept)."""
    documents = []
    render = weasyprint.HTML.render

    def keep(self, *args, **kwargs):
        document = render(self, *args, **kwargs)
        documents.append(document)
        return document

    monkeypatch.setattr(weasyprint.HTML, "render", keep)
    return documents


def text_boxes(box):
    if isinstance(box, boxes.TextBox):
        yield box
    for child in getattr(box, "children", ()):
        yield from text_boxes(child)


def overflowing(document) -> list[str]:
    """Text that runs past a page's right edge."""
    found = []
    for number, page in enumerate(document.pages, start=1):
        width = page.width
        for box in text_boxes(page._page_box):
            if box.position_x + box.width > width + 0.5:
                found.append(f"page {number}: {box.text[:40]}…")
    return found


def _in_kind_note(demo):
    support = InKindSupport.objects.first()
    support.description = f"Prostori {LONG_WORD} brezplačno."
    support.save()
    return reverse("reports:cost-sharing-file", args=["kras-2025-2029", 2025, "pdf"])


def _association_name(demo):
    Association.objects.filter(slug="po-moc").update(name=LONG_WORD)
    return reverse("reports:strategy-annex", args=["kras-2025-2029"])


def _report_section(demo):
    report = AnnualReport.objects.get(association__slug="las-velenje", year=2024)
    section = ReportSection.objects.filter(report=report).first()
    ReportSection.objects.filter(pk=section.pk).update(body=f"Uvod {LONG_WORD} konec.")
    return reverse("reports:annual-report-file", args=[report.pk, "pdf"])


def _activity_text(demo):
    activity = Activity.objects.first()
    Activity.objects.filter(pk=activity.pk).update(text=f"Dejavnost {LONG_WORD}.")
    return reverse("reports:action-plan-file", args=[activity.objective.chapter.plan.slug])


@pytest.mark.parametrize(
    "place", [_in_kind_note, _association_name, _report_section, _activity_text]
)
def test_a_word_longer_than_a_line_wraps_inside_the_page(superuser, demo, laid_out, place):
    url = place(demo)
    response = superuser.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    (document,) = laid_out
    assert LONG_WORD[:30] in "".join(
        box.text for page in document.pages for box in text_boxes(page._page_box)
    )
    assert overflowing(document) == []
