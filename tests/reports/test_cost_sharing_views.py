"""The cost-sharing page and downloads: content in each format, and who may see them."""

import csv
import html
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.reports.readers import STRATEGY_READERS

pytestmark = pytest.mark.django_db

PAGE = "/reports/strategies/kras-2025-2029/2025/cost-sharing/"


def file_url(fmt, query=""):
    return f"/reports/strategies/kras-2025-2029/2025/cost-sharing.{fmt}{query}"


@pytest.fixture
def reader(demo, persona, client):
    client.force_login(persona("referent.sezana"))
    return client


def test_the_page_reads_like_section_4_in_slovenian(reader):
    response = reader.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "PREGLED SOFINANCIRANJA DEJAVNOSTI DRUŠTEV V LETU 2025 (V EUR)" in html.upper()
    for text in ["OBČINA SEŽANA", "50,78 %", "15,32 %", "11.768", "194.630", "SKUPAJ OBČINE"]:
        assert text in html, text
    assert "brezplačno uporabo prostorov za potrebe Dnevnega centra" in html
    assert '<span class="marker">**</span>' in html
    for fmt in ["pdf", "csv", "xlsx", "json"]:
        assert f'href="{file_url(fmt)}"' in html


def test_the_municipality_annex_shows_one_column_and_its_footnotes(reader):
    html = reader.get(PAGE + "?municipality=komen").content.decode()
    assert "OBČINA KOMEN" in html
    assert "OBČINA SEŽANA" not in html
    assert "Dnevnega centra" not in html  # Sežana's premises are not Komen's footnote
    assert f'href="{file_url("pdf", "?municipality=komen")}"' in html


def test_json_has_the_documented_shape(reader):
    response = reader.get(file_url("json"))
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert list(data) == [
        "strategy",
        "year",
        "rounding_unit",
        "municipalities",
        "rows",
        "total",
        "adjusted",
    ]
    assert (data["strategy"], data["year"], data["rounding_unit"]) == ("kras-2025-2029", 2025, "1")
    assert data["municipalities"][0] == {
        "slug": "sezana",
        "name": "Občina Sežana",
        "share_percent": "50.78",
    }
    assert data["rows"][0] == {
        "association": "po-moc",
        "line": None,
        "total": "11768",
        "shares": data["rows"][0]["shares"],
    }
    assert data["rows"][1]["line"] == "Materialni stroški zaposlenih"
    assert data["total"]["total"] == "194630"
    for row in data["rows"]:
        assert sum(Decimal(s) for s in row["shares"]) == Decimal(row["total"])
    for adjusted in data["adjusted"]:
        assert set(adjusted) == {"association", "line", "municipality", "exact", "value"}
        assert abs(Decimal(adjusted["exact"]) - Decimal(adjusted["value"])) < 1


def test_csv_is_semicolon_separated_with_decimal_commas_for_slovenian_spreadsheets(reader):
    response = reader.get(file_url("csv"))
    assert response["Content-Disposition"].startswith("attachment;")
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Društvo", "Postavka", "Skupaj"]
    assert rows[0][3] == "Občina Sežana (50,78 %)"
    assert rows[1][:3] == ["Društvo PO MOČ Sežana", "", "11768"]
    assert rows[-1][0] == "SKUPAJ OBČINE" and rows[-1][2] == "194630"


def test_xlsx_keeps_numbers_numeric(reader):
    response = reader.get(file_url("xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Društvo")
    assert header[2] == "Skupaj"
    rows = [r for r in sheet.iter_rows(values_only=True) if r[0] and isinstance(r[2], int | float)]
    assert rows[0][:3] == ("Društvo PO MOČ Sežana", None, 11768)
    assert rows[-1][0] == "SKUPAJ OBČINE" and rows[-1][2] == 194630
    assert all(isinstance(value, int | float) for value in rows[-1][2:])


def test_the_pdf_has_the_figures_and_page_numbers(reader):
    response = reader.get(file_url("pdf"))
    assert response["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    for figure in ["11.768", "51.536", "194.630", "50,78 %", "SKUPAJ OBČINE", "OBČINA SEŽANA"]:
        assert figure in text, figure
    assert f"Stran 1/{len(pdf.pages)}" in text
    fonts = {
        str(font["/BaseFont"])
        for page in pdf.pages
        for font in page["/Resources"]["/Font"].values()
    }
    # The family the stylesheet declares with the shipped DejaVu files, not a system font.
    assert any("Document-Sans" in font for font in fonts), fonts


@pytest.mark.parametrize(
    ("username", "status"),
    STRATEGY_READERS,
)
@pytest.mark.parametrize("fmt", ["page", "pdf", "csv", "xlsx", "json"])
def test_each_persona_gets_the_table_as_its_role_allows(
    demo, persona, client, username, status, fmt
):
    client.force_login(persona(username))
    response = client.get(PAGE if fmt == "page" else file_url(fmt))
    assert response.status_code == status


def test_an_anonymous_visitor_is_sent_to_log_in(demo, client):
    response = client.get(file_url("csv"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_member_of_a_municipality_outside_the_strategy_is_refused(demo, persona, client):
    from funding.models import Membership, Municipality

    officer = persona("uradnik.komen")
    Membership.objects.filter(user=officer).update(
        municipality=Municipality.objects.create(
            name="Občina Koper", short_name="Koper", slug="koper"
        )
    )
    client.force_login(officer)
    # Not found, as a strategy that does not exist: outsiders learn nothing of its slug.
    assert client.get(PAGE).status_code == 404


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/reports/strategies/ni-je/2025/cost-sharing/", "There is no strategy “ni-je”."),
        (
            "/reports/strategies/kras-2025-2029/2031/cost-sharing/",
            "The year 2031 lies outside the strategy's period 2025–2029.",
        ),
        (PAGE + "?municipality=koper", "The municipality “koper” does not take part"),
        (file_url("docx"), "There is no “docx” format."),
    ],
)
def test_bad_urls_say_what_is_wrong(reader, settings, url, message):
    settings.LANGUAGE_CODE = "en"
    response = reader.get(url)
    assert response.status_code == 404
    assert message in html.unescape(response.content.decode())


def test_bad_url_messages_are_slovenian_by_default(reader):
    response = reader.get("/reports/strategies/kras-2025-2029/2031/cost-sharing/")
    assert response.status_code == 404
    assert "Leto 2031" in response.content.decode()


def test_a_long_table_repeats_its_header_and_title_on_every_page(demo, persona, client):
    from funding.models import BudgetLine, StrategyAssociation
    from tests.factories import AssociationFactory

    for position in range(4, 40):
        association = AssociationFactory(short_name=f"Društvo številka {position}")
        StrategyAssociation.objects.create(
            strategy=demo, association=association, position=position
        )
        BudgetLine.objects.create(
            strategy=demo, association=association, year=2025, category="staff", amount=1000
        )
    client.force_login(persona("referent.sezana"))
    pdf = PdfReader(io.BytesIO(client.get(file_url("pdf")).content))
    table_pages = [
        number
        for number, page in enumerate(pdf.pages, start=1)
        # Association rows print in capitals; the rounding notes name them in normal case.
        if "DRUŠTVO ŠTEVILKA" in " ".join(page.extract_text().split())
    ]
    assert len(table_pages) >= 2
    for number, page in enumerate(pdf.pages, start=1):
        text = " ".join(page.extract_text().split())
        if number in table_pages:
            assert "OBČINA SEŽANA" in text, number  # the table's header row, repeated
        assert "Strategija financiranja društev" in text, number  # the running title
        assert f"Stran {number}/{len(pdf.pages)}" in text


def test_long_rounding_notes_are_cut_with_a_pointer_to_the_json(reader, monkeypatch):
    monkeypatch.setattr("reports.documents.MAX_ROUNDING_NOTES", 2)
    html_text = reader.get(PAGE).content.decode()
    assert "odstopa 9 zneskov" in html_text  # all nine are counted
    assert html_text.count("(natančno") == 2  # two are listed
    assert "… in še 7; izvoz JSON navaja vse prilagojene zneske" in html_text
    assert len(json.loads(reader.get(file_url("json")).content)["adjusted"]) == 9
