"""Bad input everywhere: names, texts, URL parameters and uploads; never a server error.

Hypothesis writes strings that mix what real input holds now and then — very long text,
control characters (NUL among them, which PostgreSQL refuses to store), every script from
Slovenian č š ž to Arabic, CJK, emoji and combining marks, HTML, SQL and spreadsheet-formula
fragments — into the names and texts officers type in the admin. Each save either stores
exactly what was typed (less the leading and trailing whitespace Django's forms strip) or shows
the form again with an error (NUL, too long); the pages that show the value escape it, the
CSV/XLSX/JSON downloads and the admin's XLSX export hold it as text (never a formula), and the
PDF carries it. The PDF is checked by a marker ``<B>ZETONnnnn</B>`` inside the value, since text
extraction normalises fonts and spaces; and only where every character prints with the
documents' fonts: a character without a glyph (a control character, CJK) turns pypdf's reading
of the whole font into garbage, while poppler's pdftotext reads such a PDF fine.

URL parameters the views read (``municipality``, ``institution``, the admin lists' filters,
search, order and page, the autocomplete) get fuzzed values; uploads to every import (admin and
commands: budget lines, items, allocations, activities; the strategy/v1 JSON) get broken files
— random bytes, a wrong delimiter, cp1250/latin-1/UTF-16/mixed encodings, truncated or
corrupted XLSX, odd amounts (1e400, NaN, -0, three decimals, 30 digits), JSON that is not an
object or nests 100,000 deep: a refusal that names the problem and writes nothing, never a 500
or a traceback.

Each example runs in a savepoint that is rolled back, so examples do not see each other's saves.
PDFs render for two values per case only (0.1–2 s each); HTML for every one. ``FUZZ_SCALE=20``
multiplies the examples for a deeper search than the suite's.
"""

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from django import forms
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from fontTools.ttLib import TTFont
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from funding.models import (
    Allocation,
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    InKindSupport,
    Municipality,
)
from programs.models import (
    ActionPlan,
    Activity,
    AnnualReport,
    Association,
    Institution,
    Programme,
    ReportSection,
)
from tests.conftest import DEMO_SLUG

pytestmark = pytest.mark.django_db

# FUZZ_SCALE=20 runs twenty times the examples, for a search deeper than the suite's.
SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
FUZZ = settings(
    max_examples=4 * SCALE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- What bad input looks like ----------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
MARKUP = [SCRIPT, IMG, "&amp; &lt;b&gt;", "</textarea><b>krepko</b>", "{{ 7|add:1 }} {% now 'Y' %}"]
SQL = [
    "'; DROP TABLE funding_budgetline; --",
    "' OR 1=1 --",
    '" OR ""="',
    "1; SELECT pg_sleep(5)--",
]
FORMULAS = ['=HYPERLINK("https://zlo.example","Klikni")', "+SUM(1;2)", "-2+3", "@SUM(A1)"]
SCRIPTS = [
    "čšž ČŠŽ đć Društvo",
    "Привет, мир",
    "مرحبا بالعالم",
    "שלום",
    "漢字かなカナ한국어",
    "😀👍🏽🇸🇮",
    "e\u0301 a\u0308 n\u0303 Z\u030c",
    "\u202eRTL\u202c \u200b\u200d\ufeff",
    "ẞ ß ǅ ﬁ",
]
CONTROL = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F) | st.just("\x7f"),
    min_size=1,
    max_size=4,
)
LONG = st.integers(min_value=2000, max_value=6000).map(
    lambda n: ("Zelo dolgo ime društva ž " * (n // 24 + 1))[:n]
)
piece = st.one_of(
    st.sampled_from(MARKUP + SQL + FORMULAS + SCRIPTS), CONTROL, LONG, st.text(max_size=20)
)


@st.composite
def fuzzed_text(draw) -> str:
    """Pieces of bad input around a marker the documents must carry: ``<B>ZETON1234</B>``."""
    before = draw(st.lists(piece, max_size=3))
    after = draw(st.lists(piece, max_size=3))
    return " ".join([*before, marker(draw(st.integers(1000, 9999))), *after])


def marker(number: int) -> str:
    return f"<B>ZETON{number}</B>"


# Values every run tries: two that must be saved (the first printable in the documents' fonts),
# one with NUL, one too long for any name.
PRINTABLE = " ".join([*MARKUP, *SQL, *SCRIPTS[:4], SCRIPTS[6], marker(1234), "konec"])
SAVED = " ".join([*MARKUP, *SQL, *SCRIPTS, "\x01\x1b[31m\x7f", marker(4567)])
FORMULA = f"{FORMULAS[0]} {marker(5678)}"
WITH_NUL = f"ime\x00 {marker(2345)}"
TOO_LONG = f"{marker(3456)} {'ž' * 5000}"


# --- Posting the admin's forms ----------------------------------------------------------------


def form_values(form) -> dict:
    """A form's current values as a browser submits them (checkboxes only when checked)."""
    values = {}
    for bound in form:
        value = bound.value()
        if isinstance(bound.field, forms.BooleanField):
            if value:
                values[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            values[bound.html_name] = [str(item) for item in value]
        elif hasattr(value, "isoformat"):
            values[bound.html_name] = value.isoformat()
        elif value is not None:
            values[bound.html_name] = str(value)
    return values


def change_form_data(response) -> dict:
    """The admin change page's form and inlines, to be submitted as they are."""
    data = form_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data.update(form_values(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(form_values(form))
    return {**data, "_save": "Shrani"}


def form_errors(response) -> list:
    """Every error the admin shows on a form it answered with again."""
    context = response.context
    errors = list(context["adminform"].form.errors.values())
    for inline in context["inline_admin_formsets"]:
        errors += [e for e in inline.formset.errors if e] + list(inline.formset.non_form_errors())
    return errors


def font_codepoints() -> set[int]:
    """The characters both of the documents' fonts (regular and bold DejaVu Sans) can print."""
    fonts = [TTFont(path) for path in sorted(FONTS.glob("DejaVuSans*.ttf"))]
    return set.intersection(*(set(font.getBestCmap()) for font in fonts))


FONTS = Path(__file__).parents[1] / "static" / "fonts"
PRINTABLE_CODEPOINTS = font_codepoints()


def in_fonts(value: str) -> bool:
    """Whether every character prints with the documents' fonts.

    A character no font has becomes the missing glyph, and pypdf then reads the whole font's
    text as garbage (poppler's pdftotext reads it fine): the marker is looked for only when
    every character can print.
    """
    return all(ord(char) in PRINTABLE_CODEPOINTS or char in "\t\n\r" for char in value)


def pdf_text(content: bytes) -> str:
    """The PDF's text without any whitespace (fonts and line breaks move spaces around)."""
    assert content.startswith(b"%PDF-"), content[:40]
    reader = PdfReader(io.BytesIO(content))
    assert reader.pages
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


@dataclass
class Case:
    """Text fields of one admin page, who edits them, and where the value is shown.

    Every field of a case gets the same value in one save; ``stored`` reads them back.
    """

    persona: str
    admin: str  # app_model of the admin URL
    obj: Callable  # () -> the object edited
    fields: tuple  # the form fields' names, inline fields as "sections-0-body"
    stored: Callable  # (obj) -> the stored values, in the order of ``fields``
    pages: Callable  # (obj) -> URLs of HTML pages that show the value
    pdf: Callable | None = None  # (obj) -> the URL of a PDF that shows it
    files: Callable = lambda obj: []  # (obj) -> URLs of CSV, XLSX and JSON downloads
    export: str | None = None  # the admin whose XLSX export holds the value


def first_line():
    return BudgetLine.objects.filter(strategy__slug=DEMO_SLUG).order_by("pk").first()


def cost_sharing(year=2025, fmt=None):
    if fmt:
        return reverse("reports:cost-sharing-file", args=[DEMO_SLUG, year, fmt])
    return reverse("reports:cost-sharing", args=[DEMO_SLUG, year])


def changelist(admin: str, query: str = "") -> str:
    return reverse(f"admin:{admin}_changelist") + query


def draft_report() -> AnnualReport:
    """A draft report of Velenje with one narrative section, for its officer to edit."""
    report = AnnualReport.objects.filter(status=AnnualReport.Status.DRAFT).first()
    if report is not None:
        return report
    published = AnnualReport.objects.get(association__slug="novus")
    report = AnnualReport.objects.create(
        association=published.association, year=2021, title="Osnutek poročila 2021"
    )
    report.municipalities.set(published.municipalities.all())
    ReportSection.objects.create(report=report, heading="Uvod", body="Besedilo.")
    return report


def plan_page(activity_or_plan, fmt="") -> str:
    plan = getattr(activity_or_plan, "plan", activity_or_plan)
    if isinstance(activity_or_plan, Activity):
        plan = activity_or_plan.objective.chapter.plan
        query = f"?institution={activity_or_plan.lead.short_name}"
    else:
        query = ""
    name = "reports:action-plan-file" if fmt else "reports:action-plan"
    return reverse(name, args=[plan.slug]) + query


def lead_activity(institution: Institution) -> Activity:
    return Activity.objects.filter(
        responsible__institution=institution, responsible__is_lead=True
    ).first()


def an_institution() -> Institution:
    return Institution.objects.filter(activity_roles__is_lead=True).order_by("pk").first()


CASES = {
    "association": Case(
        "koordinator",
        "programs_association",
        lambda: Association.objects.get(slug="po-moc"),
        ("name", "short_name"),
        lambda obj: [obj.name, obj.short_name],
        lambda obj: [changelist("programs_association"), cost_sharing()],
        lambda obj: cost_sharing(fmt="pdf"),
        files=lambda obj: [
            cost_sharing(fmt="xlsx"),
            cost_sharing(fmt="csv"),
            reverse("reports:projection-file", args=[DEMO_SLUG, "xlsx"]),
        ],
    ),
    "programme": Case(
        "koordinator",
        "programs_programme",
        lambda: Programme.objects.order_by("pk").first(),
        ("name", "description"),
        lambda obj: [obj.name, obj.description],
        lambda obj: [
            changelist("programs_programme"),
            reverse("admin:programs_programme_change", args=[obj.pk]),
        ],
    ),
    "budget line note": Case(
        "koordinator",
        "funding_budgetline",
        first_line,
        ("note",),
        lambda obj: [obj.note],
        lambda obj: [reverse("admin:funding_budgetline_change", args=[obj.pk])],
        export="funding_budgetline",
    ),
    "budget item description": Case(
        "koordinator",
        "funding_budgetitem",
        lambda: BudgetItem.objects.filter(line__strategy__slug=DEMO_SLUG).order_by("pk").first(),
        ("description",),
        lambda obj: [obj.description],
        lambda obj: [changelist("funding_budgetitem")],
        export="funding_budgetitem",
    ),
    "in-kind support (a footnote)": Case(
        "koordinator",
        "funding_inkindsupport",
        lambda: InKindSupport.objects.filter(strategy__slug=DEMO_SLUG).order_by("pk").first(),
        ("description",),
        lambda obj: [obj.description],
        lambda obj: [cost_sharing()],
        lambda obj: cost_sharing(fmt="pdf"),
        files=lambda obj: [cost_sharing(fmt="xlsx")],  # the CSV has no footnotes
    ),
    "municipality name": Case(
        "koordinator",
        "funding_municipality",
        lambda: Municipality.objects.get(slug="sezana"),
        ("name",),
        lambda obj: [obj.name],
        lambda obj: [changelist("funding_municipality"), cost_sharing()],
        lambda obj: cost_sharing(fmt="pdf"),
        files=lambda obj: [
            *[cost_sharing(fmt=fmt) for fmt in ("xlsx", "csv", "json")],
            reverse("reports:projection-file", args=[DEMO_SLUG, "xlsx"]),
        ],
    ),
    "annual report": Case(
        "uradnik.velenje",
        "programs_annualreport",
        draft_report,
        ("title", "prepared_by"),
        lambda obj: [obj.title, obj.prepared_by],
        lambda obj: [
            changelist("programs_annualreport"),
            reverse("reports:annual-report", args=[obj.pk]),
        ],
        lambda obj: reverse("reports:annual-report-file", args=[obj.pk, "pdf"]),
    ),
    "annual report section": Case(
        "uradnik.velenje",
        "programs_annualreport",
        draft_report,
        ("sections-0-body",),
        lambda obj: [obj.sections.get().body],
        lambda obj: [reverse("reports:annual-report", args=[obj.pk])],
        lambda obj: reverse("reports:annual-report-file", args=[obj.pk, "pdf"]),
    ),
    "action plan": Case(
        "koordinator",
        "programs_actionplan",
        lambda: ActionPlan.objects.order_by("pk").first(),
        ("title", "introduction"),
        lambda obj: [obj.title, obj.introduction],
        lambda obj: [changelist("programs_actionplan"), plan_page(obj)],
        lambda obj: plan_page(lead_activity(an_institution()), "pdf"),
    ),
    "activity": Case(
        "koordinator",
        "programs_activity",
        lambda: lead_activity(an_institution()),
        ("text", "expected_results"),
        lambda obj: [obj.text, obj.expected_results],
        lambda obj: [plan_page(obj)],
        lambda obj: plan_page(obj, "pdf"),
        export="programs_activity",
    ),
    "institution name": Case(
        "koordinator",
        "programs_institution",
        an_institution,
        ("name",),
        lambda obj: [obj.name],
        lambda obj: [changelist("programs_institution"), plan_page(lead_activity(obj))],
        lambda obj: plan_page(lead_activity(obj), "pdf"),
    ),
}


class Pdfs:
    """PDFs for one printable value and one that is not, per case: they cost 0.1–2 s each."""

    def __init__(self):
        self.left = {True: 1, False: 1}

    def take(self, printable: bool) -> bool:
        self.left[printable] -= 1
        return self.left[printable] >= 0


@pytest.fixture
def reader(demo, persona):
    client = Client(raise_request_exception=False)
    client.force_login(persona("admin"))
    return client


@pytest.mark.parametrize("name", list(CASES))
def test_a_fuzzed_name_or_text_is_saved_as_typed_or_refused_and_shown_escaped(
    demo, persona, reader, name
):
    case = CASES[name]
    editor = Client(raise_request_exception=False)
    editor.force_login(persona(case.persona))
    pdfs = Pdfs()

    @FUZZ
    @given(value=fuzzed_text())
    @example(value=PRINTABLE)
    @example(value=SAVED)
    @example(value=FORMULA)
    @example(value=WITH_NUL)
    @example(value=TOO_LONG)
    def check(value):
        with transaction.atomic():
            post_and_check(case, editor, reader, value, pdfs)
            transaction.set_rollback(True)

    check()


def downloaded_text(response) -> str:
    """A download's text: every cell of an XLSX workbook, or the CSV or JSON as it is.

    No cell may be a formula: a name typed as "=HYPERLINK(…)" must stay text.
    """
    content_type = response["Content-Type"]
    if "spreadsheetml" in content_type:
        workbook = openpyxl.load_workbook(io.BytesIO(response.content))
        cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
        assert not [cell.value for cell in cells if cell.data_type == "f"], "a formula"
        return "\n".join(str(cell.value) for cell in cells if cell.value is not None)
    if "json" in content_type:
        return json.dumps(response.json(), ensure_ascii=False)
    text = response.content.decode("utf-8-sig")
    fields = [field for row in csv.reader(io.StringIO(text), delimiter=";") for field in row]
    assert not [field for field in fields if field.startswith(("=", "+", "@"))], "a formula"
    return text


def admin_export_xlsx(client: Client, admin: str):
    """The admin's export of every field as XLSX."""
    url = reverse(f"admin:{admin}_export")
    form = client.get(url).context["form"]
    data = {
        name: "on" for name, field in form.fields.items() if isinstance(field, forms.BooleanField)
    }
    formats = {str(label).lower(): value for value, label in form.fields["format"].choices}
    return client.post(url, {**data, "format": formats["xlsx"]})


def bound_field(response, html_name: str):
    """The bound field of that name on the admin page, in the form or one of its inlines."""
    forms_ = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms_ += inline.formset.forms
    return next(bound for form in forms_ for bound in form if bound.html_name == html_name)


def post_and_check(case: Case, editor: Client, reader: Client, value: str, pdfs: Pdfs):
    obj = case.obj()
    before = case.stored(obj)
    url = reverse(f"admin:{case.admin}_change", args=[obj.pk])
    page = editor.get(url)
    assert page.status_code == 200, (url, page.status_code)
    limits = [bound_field(page, name).field.max_length for name in case.fields]
    typed = dict.fromkeys(case.fields, value)
    response = editor.post(url, {**change_form_data(page), **typed})
    obj.refresh_from_db()
    too_long = any(limit is not None and len(value.strip()) > limit for limit in limits)
    if "\x00" in value or too_long:
        assert response.status_code == 200, (response.status_code, value)
        assert form_errors(response), "answered 200 without an error"
        assert case.stored(obj) == before, "refused, but something was saved"
        return
    assert response.status_code == 302, (response.status_code, form_errors(response), value)
    assert case.stored(obj) == [value.strip()] * len(case.fields)
    shown = re.search(r"<B>ZETON\d{4}</B>", value).group()
    for page_url in case.pages(obj):
        html = reader.get(page_url).content.decode()
        assert escape(shown) in html, f"{page_url} does not show the value escaped"
        for raw in (SCRIPT, IMG, shown):
            assert raw not in value or raw not in html, f"{page_url} shows {raw!r} unescaped"
    for file_url in case.files(obj):
        response = reader.get(file_url)
        assert response.status_code == 200, (file_url, response.status_code)
        assert shown in downloaded_text(response), f"{file_url} lacks the value"
    if case.export is not None:
        response = admin_export_xlsx(editor, case.export)
        assert response.status_code == 200, response.content[:2000]
        assert shown in downloaded_text(response), f"the export of {case.export} lacks it"
    printable = in_fonts(value)
    if case.pdf is not None and pdfs.take(printable):
        pdf_url = case.pdf(obj)
        response = reader.get(pdf_url)
        assert response.status_code == 200, (pdf_url, response.status_code)
        text = pdf_text(response.content)
        if printable:
            assert shown in text, pdf_url


# --- URL parameters ---------------------------------------------------------------------------

NUL_MIDDLEWARE = "config.middleware.RefuseNulInQueryMiddleware"


ODD_VALUES = [
    "",
    "0",
    "-1",
    "-0",
    "1e400",
    "NaN",
    "inf",
    "99999999999999999999999",
    "2025",
    "1,005",
    "true",
    "None",
    "%",
    "_",
    "\\",
    "a\x00b",
    "\x00",
    "[]",
    DEMO_SLUG,
    "komen",
    "MZ",
    "2019-2",
    "ž" * 3000,
    *MARKUP,
    *SQL,
]
query_value = st.one_of(st.sampled_from(ODD_VALUES), CONTROL, st.text(max_size=20))
GENERIC_PARAMETERS = ["q", "o", "p", "e", "all", "_to_field", "_popup", "_changelist_filters"]


def beyond_64_bits(value: str) -> bool:
    try:
        return abs(int(value)) >= 2**63
    except ValueError:
        return False


def admin_parameters() -> dict[str, list[str]]:
    """Each admin list and the GET parameters it reads: search, order, page, its filters."""
    from django.contrib import admin

    lists = {}
    for model, model_admin in admin.site._registry.items():
        names = list(GENERIC_PARAMETERS)
        for entry in model_admin.list_filter:
            if isinstance(entry, str):
                names += [f"{entry}{suffix}" for suffix in ("", "__exact", "__id__exact")]
                names += [f"{entry}__isnull", f"{entry}__in", f"{entry}__gte"]
        if model_admin.date_hierarchy:
            names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        lists[reverse(f"admin:{info}_changelist")] = names
    return lists


def report_parameters() -> dict[str, list[str]]:
    """The reports' pages and downloads and the GET parameters their views read."""
    plan = ActionPlan.objects.order_by("pk").first()
    return {
        cost_sharing(): ["municipality"],
        cost_sharing(fmt="csv"): ["municipality"],
        cost_sharing(fmt="json"): ["municipality"],
        cost_sharing(year=99999): ["municipality"],
        reverse("reports:action-plan", args=[plan.slug]): ["institution"],
        reverse("reports:action-plan-progress", args=[plan.slug]): ["institution"],
        reverse("reports:index"): ["year", "municipality"],
        reverse("reports:projection", args=[DEMO_SLUG]): ["year"],
        reverse("admin:programs_activity_export"): ["q", "objective__chapter__plan__id__exact"],
        reverse("admin:autocomplete"): ["term", "app_label", "model_name", "field_name"],
    }


def test_fuzzed_url_parameters_never_cause_a_server_error(demo, persona):
    targets = {**admin_parameters(), **report_parameters()}
    clients = {}
    for username in ("admin", "koordinator", "uradnik.velenje", "svetnik.sezana"):
        clients[username] = Client(raise_request_exception=False)
        clients[username].force_login(persona(username))
    parameters = st.sampled_from(sorted(targets)).flatmap(
        lambda url: st.tuples(
            st.just(url),
            st.dictionaries(st.sampled_from(targets[url]), query_value, min_size=1, max_size=3),
        )
    )

    @settings(FUZZ, max_examples=100 * SCALE)
    @given(request=parameters, username=st.sampled_from(sorted(clients)))
    @example(request=(cost_sharing(), {"municipality": "a\x00b"}), username="admin")
    @example(request=(changelist("funding_budgetline"), {"q": "a\x00b"}), username="admin")
    @example(request=(changelist("funding_budgetline"), {"year": "1e400"}), username="admin")
    @example(request=(changelist("programs_project"), {"start_date__year": "x"}), username="admin")
    @example(
        request=(reverse("reports:action-plan", args=["x"]), {"institution": "\x00"}),
        username="admin",
    )
    @example(
        request=(
            reverse("admin:autocomplete"),
            {
                "term": "a\x00",
                "app_label": "funding",
                "model_name": "budgetline",
                "field_name": "association",
            },
        ),
        username="koordinator",
    )
    def check(request, username):
        url, query = request
        # Known, left as it is: on SQLite (development only) Django sends an integer beyond 64
        # bits in a foreign-key or ``__in`` filter to the database, which raises OverflowError;
        # PostgreSQL answers "nothing found". Django's own fix (#27397) covers the other lookups.
        assume(not (connection.vendor == "sqlite" and any(map(beyond_64_bits, query.values()))))
        response = clients[username].get(url, query)
        assert response.status_code < 500, (username, url, query, response.status_code)

    check()


def test_a_nul_in_the_address_is_refused_with_a_message_and_a_nul_in_a_form_by_the_form(
    demo, persona
):
    client = Client(raise_request_exception=False)
    client.force_login(persona("koordinator"))
    association = Association.objects.get(slug="po-moc")
    for query in ({"name": "a\x00b"}, {"q": "\x00"}, {"a\x00": "b"}):
        response = client.get(changelist("programs_association"), query)
        assert response.status_code == 400, query
        assert "Naslov vsebuje znak NUL (ničelni bajt)" in response.content.decode()
    assert client.get(changelist("programs_association"), {"q": "po"}).status_code == 200

    url = reverse("admin:programs_association_change", args=[association.pk])
    data = change_form_data(client.get(url))
    response = client.post(url, {**data, "name": "a\x00b"})
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    association.refresh_from_db()
    assert "\x00" not in association.name


def test_the_settings_refuse_a_nul_in_the_address(settings):
    """The tests above rely on it; it must sit after authentication, like the filters it guards."""
    assert NUL_MIDDLEWARE in settings.MIDDLEWARE, f"add {NUL_MIDDLEWARE} to MIDDLEWARE"
    assert settings.MIDDLEWARE.index(NUL_MIDDLEWARE) > settings.MIDDLEWARE.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    )


# --- Uploads ----------------------------------------------------------------------------------

CORPUS = Path(__file__).parent / "funding" / "import_corpus"
ODD_AMOUNTS = [
    "1" * 30,
    "99999999999999,99",
    "1e400",
    "1E3",
    "NaN",
    "Infinity",
    "-0",
    "-0,00",
    "12,345",
    "1.234.567,891",
    "0,001",
    "-5",
    "½",
    "0x10",
    "",
    "a\x00",
]


@dataclass
class Importer:
    """An import command and its admin twin, with a file it accepts to start mutating from."""

    command: str
    options: tuple
    seed: str  # CSV text with ";" between cells
    admin: str | None  # app_model of the admin's import
    editor: str


IMPORTERS = {
    "budget lines": Importer(
        "import_budget_lines",
        ("--user", "koordinator"),
        "strategija;leto;društvo;kategorija;opis;znesek\r\n"
        "kras-2025-2029;2026;po-moc;Materialni stroški programa;opis;6.855,42\r\n"
        "kras-2025-2029;2026;vezi;Drugi stroški;;1.000,00\r\n",
        "funding_budgetline",
        "koordinator",
    ),
    "budget items": Importer(
        "import_budget_lines",
        ("--items", "--user", "koordinator"),
        (CORPUS / "good" / "rk_sezana_staff_items_2025.csv").read_text(encoding="utf-8-sig"),
        "funding_budgetitem",
        "koordinator",
    ),
    "allocations": Importer(
        "import_allocations",
        ("--user", "uradnik.velenje"),
        "občina;leto;postavka;prejemnik;načrtovano;realizirano\r\n"
        "velenje;2024;Mladinski center Velenje;Preventivni projekti MC Velenje;"
        "4.500,00;4.500,00\r\n"
        "velenje;2024;Mladinski center Velenje;Nov prejemnik;10,00;\r\n",
        "funding_allocation",
        "uradnik.velenje",
    ),
    "activities": Importer(
        "import_activities",
        ("--user", "koordinator"),
        (
            Path(__file__).parent
            / "programs"
            / "import_corpus"
            / "activities"
            / "good"
            / "preventiva_v_solah.csv"
        ).read_text(encoding="utf-8-sig"),
        "programs_activity",
        "koordinator",
    ),
}


def snapshot() -> dict:
    """Everything an import may write, to compare before and after a refused one."""
    return {
        "lines": sorted(BudgetLine.objects.values_list("pk", "amount", "note", "version")),
        "items": sorted(BudgetItem.objects.values_list("pk", "amount", "description", "version")),
        "allocations": sorted(
            Allocation.objects.values_list("pk", "recipient", "planned_amount", "realised_amount")
        ),
        "activities": sorted(Activity.objects.values_list("pk", "text", "periods")),
        "strategies": sorted(FundingStrategy.objects.values_list("pk", "slug", "title")),
        "associations": Association.objects.count(),
        "institutions": Institution.objects.count(),
    }


def xlsx_of(rows: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def csv_text(rows: list[list[str]], delimiter: str = ";") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


@st.composite
def broken_file(draw, seed: str, workbook: bytes) -> tuple[str, bytes]:
    """A file name and bytes: the seed (or its workbook) with one thing wrong, or garbage."""
    rows = csv_rows(seed)
    kind = draw(
        st.sampled_from(["cell", "amount", "encoding", "delimiter", "truncated", "xlsx", "bytes"])
    )
    if kind in ("cell", "amount"):
        row = draw(st.integers(1, len(rows) - 1))
        column = draw(st.integers(0, len(rows[row]) - 1))
        rows[row][column] = draw(
            st.sampled_from(ODD_AMOUNTS) if kind == "amount" else fuzzed_text()
        )
        return "fuzz.csv", csv_text(rows).encode("utf-8")
    if kind == "encoding":
        encoding = draw(st.sampled_from(["cp1250", "latin-1", "utf-16", "utf-8-sig", "mixed"]))
        text = csv_text(rows)
        if encoding == "mixed":  # the header in UTF-8, the rows as Windows wrote them
            header, _, body = text.partition("\r\n")
            return "fuzz.csv", (header + "\r\n").encode() + body.encode("cp1250", "replace")
        return "fuzz.csv", text.encode(encoding, "replace")
    if kind == "delimiter":
        delimiter = draw(st.sampled_from(["\t", "|", ",", " "]))
        return "fuzz.csv", csv_text(rows, delimiter).encode()
    if kind == "truncated":
        raw = csv_text(rows).encode()
        return "fuzz.csv", raw[: draw(st.integers(0, len(raw) - 1))]
    if kind == "xlsx":
        raw = workbook  # made once: openpyxl writes the time of saving into it
        cut = draw(st.integers(0, len(raw) - 1))
        if draw(st.booleans()):  # one byte changed instead of the tail cut off
            return "fuzz.xlsx", raw[:cut] + bytes([raw[cut] ^ 0xFF]) + raw[cut + 1 :]
        return "fuzz.xlsx", raw[:cut]
    return draw(st.sampled_from(["fuzz.csv", "fuzz.xlsx"])), draw(st.binary(max_size=3000))


def with_last_cell(seed: str, value: str) -> str:
    """The seed with the first row's last cell (an amount, in most files) replaced."""
    rows = csv_rows(seed)
    rows[1][-1] = value
    return csv_text(rows)


def negative_zeros() -> list:
    """Amounts stored as -0.00: "-0" typed or imported must be plain zero."""
    amounts = [
        *BudgetLine.objects.values_list("amount", flat=True),
        *BudgetItem.objects.values_list("amount", flat=True),
        *Allocation.objects.values_list("planned_amount", flat=True),
        *Allocation.objects.values_list("realised_amount", flat=True),
    ]
    return [amount for amount in amounts if amount is not None and amount.is_signed()]


def run_command(name: str, path: Path, *options) -> tuple[bool, str]:
    """Whether the command imported, and what it said; any exception but a refusal escapes."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, str(path), *options, stdout=out, stderr=err)
    except CommandError as error:
        return False, f"{err.getvalue()}\n{error}"
    return True, out.getvalue()


def check_refusal(report: str, before: dict) -> None:
    assert "Traceback" not in report, report
    assert report.strip(), "refused without a word"
    assert snapshot() == before, f"refused, but something was written:\n{report}"


@pytest.mark.parametrize("name", list(IMPORTERS))
def test_a_broken_file_is_refused_by_the_command_with_its_problem_and_writes_nothing(
    demo, tmp_path, name
):
    importer = IMPORTERS[name]
    path_of = {suffix: tmp_path / f"fuzz{suffix}" for suffix in (".csv", ".xlsx")}

    workbook = xlsx_of(csv_rows(importer.seed))

    @settings(FUZZ, max_examples=25 * SCALE)
    @given(file=broken_file(importer.seed, workbook))
    @example(file=("fuzz.csv", importer.seed.encode("utf-16")))
    @example(file=("fuzz.xlsx", workbook[:500]))
    @example(file=("fuzz.csv", with_last_cell(importer.seed, "-0").encode()))
    @example(file=("fuzz.csv", with_last_cell(importer.seed, "1e400").encode()))
    def check(file):
        file_name, content = file
        path = path_of[Path(file_name).suffix]
        path.write_bytes(content)
        with transaction.atomic(), translation.override("en"):
            before = snapshot()
            imported, report = run_command(importer.command, path, *importer.options)
            if imported:
                assert not negative_zeros(), f"“-0” was stored as a negative zero:\n{report}"
            else:
                check_refusal(report, before)
            transaction.set_rollback(True)

    check()


@pytest.mark.parametrize("name", list(IMPORTERS))
def test_a_broken_file_is_refused_by_the_admin_with_its_problem_and_writes_nothing(
    demo, persona, name
):
    importer = IMPORTERS[name]
    client = Client(raise_request_exception=False)
    client.force_login(persona(importer.editor))
    url = reverse(f"admin:{importer.admin}_import")
    formats = {
        str(label).lower(): value
        for value, label in client.get(url).context["form"].fields["format"].choices
    }

    workbook = xlsx_of(csv_rows(importer.seed))

    @settings(FUZZ, max_examples=25 * SCALE)
    @given(file=broken_file(importer.seed, workbook))
    @example(file=("fuzz.csv", importer.seed.encode("utf-16")))
    def check(file):
        file_name, content = file
        fmt = formats["xlsx" if file_name.endswith(".xlsx") else "csv"]
        with transaction.atomic():
            before = snapshot()
            response = client.post(
                url, {"import_file": SimpleUploadedFile(file_name, content), "format": fmt}
            )
            assert response.status_code == 200, (response.status_code, file_name)
            assert snapshot() == before  # the preview writes nothing
            context = response.context
            result = context.get("result")
            errors = context["form"].errors if context.get("form") else {}
            if result is None or result.has_errors() or result.has_validation_errors():
                assert errors or result is not None, "refused without a word"
                return transaction.set_rollback(True)
            confirm = context["confirm_form"]
            done = client.post(reverse(f"admin:{importer.admin}_process_import"), confirm.initial)
            assert done.status_code in (200, 302), done.status_code
            transaction.set_rollback(True)

    check()


def test_a_confirmation_naming_another_file_imports_nothing_and_deletes_nothing(
    demo, persona, tmp_path
):
    """The confirmation form names the uploaded file; a changed or repeated one is refused."""
    other = Path(tempfile.gettempdir()) / f"fuzz-{tmp_path.name}.csv"
    other.write_text("strategija;leto\r\nkras-2025-2029;2026\r\n", encoding="utf-8")
    client = Client(raise_request_exception=False)
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_budgetline_process_import")
    before = snapshot()
    try:
        for name in (other.name, str(other), "../" + other.name, "funding-import-gone", "a\x00b"):
            response = client.post(
                url, {"import_file_name": name, "original_file_name": "x.csv", "format": "0"}
            )
            assert response.status_code == 302, (name, response.status_code)
            assert response["Location"] == reverse("admin:funding_budgetline_import")
            message = str(next(iter(get_messages(response.wsgi_request))))
            assert "ne čaka več na potrditev" in message
            assert other.exists(), f"{name} deleted the other file"
    finally:
        other.unlink(missing_ok=True)
    assert snapshot() == before


def test_a_confirmed_import_confirmed_again_says_so(demo, persona):
    client = Client(raise_request_exception=False)
    client.force_login(persona("koordinator"))
    upload = SimpleUploadedFile("vrstice.csv", IMPORTERS["budget lines"].seed.encode())
    preview = client.post(
        reverse("admin:funding_budgetline_import"), {"import_file": upload, "format": "0"}
    )
    confirm = preview.context["confirm_form"].initial
    assert confirm["import_file_name"].startswith("funding-import-")
    url = reverse("admin:funding_budgetline_process_import")
    assert client.post(url, confirm).status_code == 302
    assert BudgetLine.objects.filter(year=2026).count() == 2
    again = client.post(url, confirm)
    assert again.status_code == 302
    assert again["Location"] == reverse("admin:funding_budgetline_import")
    assert BudgetLine.objects.filter(year=2026).count() == 2


STRATEGY_FILE = Path(__file__).parents[1] / "fixtures" / "kras-2025-2029.json"
ODD_JSON = [
    float("inf"),
    float("nan"),
    -0.0,
    10**30,
    1.005,
    "1e400",
    "NaN",
    "-0",
    "-0.00",
    "12.345",
    "1,005",
    "a\x00b",
    "x" * 5000,
    None,
    True,
    [],
    {},
    [[[[[]]]]],
    SCRIPT,
    SQL[0],
]


def leaf_paths(value, path=()):
    """Every place in a JSON document, as a path of keys and indexes."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))


@st.composite
def broken_document(draw, seed: dict, places: list) -> bytes:
    """The strategy/v1 document with one value replaced, or no document at all."""
    kind = draw(st.sampled_from(["value", "value", "value", "root", "nested", "cut", "text"]))
    text = json.dumps(seed, ensure_ascii=False)
    if kind == "value":
        document = json.loads(text)
        path = draw(st.sampled_from(places[1:]))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = draw(st.sampled_from(ODD_JSON) | fuzzed_text())
        return json.dumps(document, ensure_ascii=False).encode()
    if kind == "root":
        return json.dumps(draw(st.sampled_from([[], "strategija", 1, None, True, [seed]]))).encode()
    if kind == "nested":  # deeper than any parser's recursion
        depth = draw(st.integers(1000, 200_000))
        return ("[" * depth + "]" * depth).encode()
    if kind == "cut":
        raw = text.encode()
        return raw[: draw(st.integers(0, len(raw) - 1))]
    return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")


def test_a_broken_strategy_document_is_refused_with_its_problem_and_writes_nothing(demo, tmp_path):
    seed = json.loads(STRATEGY_FILE.read_text(encoding="utf-8"))
    places = list(leaf_paths(seed))
    path = tmp_path / "strategija.json"

    @settings(FUZZ, max_examples=25 * SCALE)
    @given(content=broken_document(seed, places))
    @example(content=b"[" * 100_000 + b"]" * 100_000)
    @example(content=b'{"format": "strategy/v1", "slug": "kras-2025-2029", "title": "a\\u0000b"}')
    @example(content=json.dumps({**seed, "title": "a\x00b"}).encode())
    @example(content=json.dumps({**seed, "start_year": 1e400}).encode())
    @example(
        content=json.dumps(
            {**seed, "indexation_rates": [{"year": 2026, "category": [], "percent": "2.00"}]}
        ).encode()
    )
    def check(content):
        path.write_bytes(content)
        with transaction.atomic(), translation.override("en"):
            before = snapshot()
            imported, report = run_command("import_strategy", path)
            if not imported:
                check_refusal(report, before)
            transaction.set_rollback(True)

    check()


def test_a_strategy_document_names_where_it_holds_a_nul_and_how_deep_it_nests(demo, tmp_path):
    seed = json.loads(STRATEGY_FILE.read_text(encoding="utf-8"))
    seed["title"] = "a\x00b"
    seed["associations"][1]["lines"][0]["note"] = "\x00"
    path = tmp_path / "strategija.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    with translation.override("en"):
        imported, report = run_command("import_strategy", path)
    assert not imported
    assert "strategy.title: contains a NUL character" in report
    assert "associations[1].lines[0].note: contains a NUL character" in report
    path.write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    imported, report = run_command("import_strategy", path)
    assert not imported
    assert "gnezdi sezname ali objekte globlje" in report


def test_an_odd_amount_typed_in_the_admin_is_saved_as_a_plain_number_or_refused(demo, persona):
    client = Client(raise_request_exception=False)
    client.force_login(persona("koordinator"))
    line = BudgetLine.objects.filter(strategy__slug=DEMO_SLUG, items__isnull=True).first()
    url = reverse("admin:funding_budgetline_change", args=[line.pk])

    @settings(FUZZ, max_examples=10 * SCALE)
    @given(amount=st.sampled_from(ODD_AMOUNTS) | st.text(max_size=12))
    @example(amount="-0")
    @example(amount="1e400")
    def check(amount):
        with transaction.atomic():
            data = change_form_data(client.get(url))
            response = client.post(url, {**data, "amount": amount})
            assert response.status_code in (200, 302), (amount, response.status_code)
            line.refresh_from_db()
            if response.status_code == 200:
                assert "amount" in response.context["adminform"].form.errors, amount
            else:
                assert not line.amount.is_signed(), f"{amount!r} was stored as {line.amount}"
            transaction.set_rollback(True)

    check()
