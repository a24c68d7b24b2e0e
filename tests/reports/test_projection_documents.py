"""The projection over the strategy's years: figures that add up, each format, who may see it."""

import csv
import html
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from funding.models import BudgetLine, Membership, Municipality
from funding.projection import projection_derive
from reports.projection import strategy_projection
from reports.selectors import cost_sharing_table

pytestmark = pytest.mark.django_db

PAGE = "/reports/strategies/kras-2025-2029/projection/"
# Each year's grand total as its cost-sharing table publishes it, 2025 (the published table)
# to 2029 (derived by the demo's illustrative rates).
TOTALS = [194630, 202408, 208838, 214589, 219692]


def file_url(fmt):
    return f"/reports/strategies/kras-2025-2029/projection.{fmt}"


@pytest.fixture
def projected(demo):
    """The demo strategy with 2026–2029 derived, as ``make run`` loads it."""
    projection_derive(strategy=demo)
    return demo


@pytest.fixture
def reader(projected, persona, client):
    client.force_login(persona("referent.sezana"))
    return client


def test_every_years_column_is_that_years_cost_sharing_table(projected):
    projection = strategy_projection(projected)
    assert [year.year for year in projection.years] == list(range(2025, 2030))
    assert list(projection.totals) == [Decimal(total) for total in TOTALS]
    assert projection.total == Decimal(sum(TOTALS)) == Decimal("1040157")
    associations = [row for row in projection.rows if row.is_association]
    assert [row.association_slug for row in associations] == [
        "po-moc",
        "vezi",
        "rk-sezana",
        "mdpm-sezana",
    ]
    for index, year in enumerate(projection.years):
        table = cost_sharing_table(projected, year.year)
        assert projection.totals[index] == table.total.value
        # The associations add up to the year's total, and so do the municipalities.
        assert sum(row.values[index] for row in associations) == table.total.value
        assert sum(row.values[index] for row in projection.municipalities) == table.total.value
        assert [row.values[index] for row in projection.municipalities] == [
            cell.figure.value for cell in table.total_cells
        ]
        # Each association's figure is the sum of its lines.
        for association in associations:
            lines = [
                row
                for row in projection.rows
                if row.association_slug == association.association_slug and not row.is_association
            ]
            assert sum(row.values[index] for row in lines) == association.values[index]
    # The five-year totals add up across the table as well.
    assert sum(row.total for row in associations) == projection.total
    assert sum(row.total for row in projection.municipalities) == projection.total
    sezana = projection.municipalities[0]
    assert sezana.column.slug == "sezana"
    assert sezana.values == tuple(
        Decimal(v) for v in ("98833", "102782", "106048", "108968", "111559")
    )


def test_years_without_lines_have_no_figures_rather_than_zero(demo):
    projection = strategy_projection(demo)  # the demo has its 2025 lines only
    assert projection.totals == (Decimal("194630"), None, None, None, None)
    assert projection.years_without_lines == [2026, 2027, 2028, 2029]
    assert projection.total == Decimal("194630")  # the years that have figures
    assert all(row.values[1:] == (None,) * 4 for row in projection.rows)
    assert all(row.values[1:] == (None,) * 4 for row in projection.municipalities)


def test_an_association_without_lines_in_a_year_has_no_figure_there(projected):
    BudgetLine.objects.filter(strategy=projected, year=2027, association__slug="vezi").delete()
    projection = strategy_projection(projected)
    vezi = next(row for row in projection.rows if row.association_slug == "vezi")
    assert vezi.values[2] is None
    assert projection.totals[2] == cost_sharing_table(projected, 2027).total.value


def test_the_page_shows_every_year_association_and_municipality(reader):
    response = reader.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    for text in [
        "11.768",  # PO MOČ 2025, as published
        "12.062",  # PO MOČ 2026
        "194.630",
        "219.692",
        "1.040.157",
        "SKUPAJ OBČINE",
        "Občina Sežana (50,78 %)",
        "111.559",  # Sežana's share of 2029
        "4,50 %",  # the 2026 rate of staff costs
        "ilustrativno: temeljna ekonomska izhodišča za pripravo proračunov 2026",
    ]:
        assert text in page, text
    assert page.count("<svg") == 4  # one chart per municipality
    assert "<script" not in page
    assert "2.025" not in page  # years are not amounts
    for fmt in ["pdf", "xlsx", "csv"]:
        assert f'href="{file_url(fmt)}"' in page
    assert 'href="/reports/strategies/kras-2025-2029/2027/cost-sharing/"' in page


def test_the_page_marks_years_without_lines(demo, persona, client):
    client.force_login(persona("referent.sezana"))
    page = client.get(PAGE).content.decode()
    # 13 rows (4 associations, 8 lines, the total) and 5 (4 municipalities, the total), each
    # with 4 years without lines; the five-year totals are those of 2025.
    assert page.count('<td class="num missing">—</td>') == (13 + 5) * 4
    assert "2026, 2027, 2028, 2029" in page


def chart_bars(svg: str) -> dict[str, float]:
    """The drawn width of each year's bar in an SVG chart."""
    rows = re.findall(r"<g>(.*?)</g>", svg)
    bars = {}
    for row in rows:
        label = re.search(r">(\d{4})</text>", row).group(1)
        width = re.search(r'<rect [^>]*width="([\d.]+)"', row)
        bars[label] = float(width.group(1)) if width else 0.0
    return bars


def test_the_charts_share_one_scale_and_print_slovenian_amounts(reader):
    page = reader.get(PAGE).content.decode()
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    sezana, komen = chart_bars(charts[0]), chart_bars(charts[3])
    assert "111.559 EUR" in charts[0] and "33.657 EUR" in charts[3]
    # Sežana's 2029 contribution fills the width; Komen's bars are drawn to the same scale.
    assert komen["2029"] / sezana["2029"] == pytest.approx(33657 / 111559, abs=0.01)
    assert sezana["2025"] < sezana["2029"]


def test_the_chart_of_a_year_without_lines_has_a_dash_and_no_bar(demo, persona, client):
    client.force_login(persona("referent.sezana"))
    page = client.get(PAGE).content.decode()
    chart = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert chart_bars(chart)["2027"] == 0.0
    assert "2027: —" in html.unescape(chart)  # the chart's description for screen readers


def test_the_pdf_has_the_figures_in_slovenian_format_and_the_charts(reader):
    response = reader.get(file_url("pdf"))
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="kras-2025-2029-projekcija.pdf"' in response["Content-Disposition"]
    pdf = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    for figure in [
        "11.768",
        "12.062",
        "219.692",
        "1.040.157",
        "SKUPAJ OBČINE",
        "Občina Komen (15,32 %)",
        "111.559 EUR",  # the chart of Sežana
        "4,50 %",
    ]:
        assert figure in text, figure
    assert f"Stran 1/{len(pdf.pages)}" in text


def numbers(row, start, count):
    return [row[i] for i in range(start, start + count)]


def test_the_xlsx_adds_up_in_every_year(reader):
    response = reader.get(file_url("xlsx"))
    assert 'filename="kras-2025-2029-projekcija.xlsx"' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "Društvo")
    assert list(rows[header][2:]) == ["2025", "2026", "2027", "2028", "2029", "2025–2029"]
    body = rows[header + 1 :]
    total_at = next(i for i, row in enumerate(body) if row[0] == "SKUPAJ OBČINE")
    associations = [row for row in body[:total_at] if row[1] is None]
    lines = [row for row in body[:total_at] if row[1] is not None]
    total = body[total_at]
    assert numbers(total, 2, 5) == TOTALS and total[7] == sum(TOTALS)
    for column in range(2, 8):
        assert sum(row[column] for row in associations) == total[column]
        assert sum(row[column] for row in lines) == total[column]
    # Municipality rows, not their header ("Občina"): each has a name after "Občina ".
    municipalities = [
        row for row in body[total_at + 1 :] if row[0] and row[0].startswith("Občina ")
    ]
    assert [row[0] for row in municipalities] == [
        "Občina Sežana",
        "Občina Divača",
        "Občina Hrpelje-Kozina",
        "Občina Komen",
    ]
    for column in range(2, 8):
        assert sum(row[column] for row in municipalities) == total[column]
    rates = {row[0]: row[1:] for row in workbook.worksheets[1].iter_rows(values_only=True)}
    assert rates["Stroški zaposlenih"][:4] == pytest.approx((0.045, 0.035, 0.03, 0.025))


def test_the_xlsx_writes_a_dash_for_a_year_without_lines(demo, persona, client):
    client.force_login(persona("referent.sezana"))
    sheet = load_workbook(io.BytesIO(client.get(file_url("xlsx")).content)).worksheets[0]
    total = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "SKUPAJ OBČINE")
    assert list(total[2:8]) == [194630, "—", "—", "—", "—", 194630]


def test_the_csv_is_for_slovenian_spreadsheets(reader):
    response = reader.get(file_url("csv"))
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Društvo", "Postavka"]
    po_moc = ["Društvo PO MOČ Sežana", "", "11768", "12062", "12328", "12574", "12826", "61558"]
    assert rows[1] == po_moc
    totals = [row for row in rows if row and row[0] == "SKUPAJ OBČINE"]
    assert len(totals) == 2  # under the associations and under the municipalities
    assert totals[0][2:] == [str(total) for total in TOTALS] + ["1040157"]
    sezana = next(row for row in rows if row and row[0] == "Občina Sežana")
    assert sezana[1] == "50,78"


def test_the_cost_sharing_page_and_the_documents_index_link_to_the_projection(reader):
    cost_sharing = reader.get("/reports/strategies/kras-2025-2029/2026/cost-sharing/")
    assert f'href="{PAGE}"' in cost_sharing.content.decode()
    index = reader.get(reverse("reports:index")).content.decode()
    assert f'href="{PAGE}"' in index
    assert f'href="{file_url("pdf")}"' in index


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("admin", 200),
        ("koordinator", 200),
        ("uradnik.sezana", 200),
        ("uradnik.komen", 200),
        ("svetnik.sezana", 200),
        ("referent.sezana", 200),
        ("zunanji", 403),
    ],
)
@pytest.mark.parametrize("fmt", ["page", "pdf", "xlsx", "csv"])
def test_each_persona_gets_the_projection_as_its_role_allows(
    projected, persona, client, username, status, fmt
):
    client.force_login(persona(username))
    response = client.get(PAGE if fmt == "page" else file_url(fmt))
    assert response.status_code == status


def test_an_anonymous_visitor_is_sent_to_log_in(projected, client):
    response = client.get(file_url("xlsx"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_member_of_a_municipality_outside_the_strategy_is_refused(projected, persona, client):
    officer = persona("uradnik.komen")
    Membership.objects.filter(user=officer).update(
        municipality=Municipality.objects.create(
            name="Občina Koper", short_name="Koper", slug="koper"
        )
    )
    client.force_login(officer)
    assert client.get(PAGE).status_code == 404
    assert client.get(file_url("pdf")).status_code == 404
    index = client.get(reverse("reports:index")).content.decode()
    assert PAGE not in index


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/reports/strategies/ni-je/projection/", "There is no strategy “ni-je”."),
        (file_url("json"), "There is no “json” format."),
    ],
)
def test_bad_urls_say_what_is_wrong(reader, settings, url, message):
    settings.LANGUAGE_CODE = "en"
    response = reader.get(url)
    assert response.status_code == 404
    assert message in html.unescape(response.content.decode())
