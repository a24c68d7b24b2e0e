"""Officers, coordinators and clerks at work in a real browser (headless Chromium)."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from funding.models import BudgetLine

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def table_numbers(page):
    """Each row of the table page as its label and its integers (1.234 → 1234)."""
    rows = []
    for row in page.locator("table.cost-sharing tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        numbers = [int(text.replace(".", "").replace("*", "").strip()) for text in cells]
        rows.append((row.locator("th").inner_text(), numbers))
    return rows


def test_a_coordinator_changes_a_line_and_the_table_follows(demo, live_server, page):
    line = BudgetLine.objects.get(
        strategy=demo, association__slug="po-moc", category="programme_material"
    )
    log_in(page, live_server, "koordinator")
    page.goto(f"{live_server.url}/admin/funding/budgetline/{line.pk}/change/")
    page.fill("input[name=amount]", "7000.00")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/funding/budgetline/")
    line.refresh_from_db()
    assert line.amount == Decimal("7000.00")

    page.goto(f"{live_server.url}/reports/strategies/kras-2025-2029/2025/cost-sharing/")
    rows = table_numbers(page)
    assert rows[2][0] == "Materialni stroški programa"
    assert rows[2][1][0] == 7000
    assert rows[0][1][0] == 5047 + 7000  # PO MOČ's total follows its line
    for _label, (total, *shares) in rows:
        assert sum(shares) == total  # every row still adds up
    assert rows[-1][1][0] == 194630 - 6721 + 7000
    associations = [numbers for label, numbers in rows[:-1] if label.isupper()]
    for column in range(1, 5):
        assert sum(numbers[column] for numbers in associations) == rows[-1][1][column]


def test_a_komen_officer_cannot_open_a_budget_item_of_sezana(demo, live_server, page):
    from funding.models import BudgetItem, FundingStrategy, Municipality, StrategyShare

    sezana = Municipality.objects.get(slug="sezana")
    strategy = FundingStrategy.objects.create(
        slug="samo-sezana",
        title="Samo Sežana",
        start_year=2026,
        end_year=2026,
        lead_municipality=sezana,
    )
    StrategyShare.objects.create(strategy=strategy, municipality=sezana, share_percent=100)
    association = demo.associations.first()
    strategy.strategy_associations.create(association=association)
    line = BudgetLine.objects.create(
        strategy=strategy, association=association, year=2026, category="staff", amount=10
    )
    item = BudgetItem.objects.create(line=line, description="tajnica Sežane", amount=10)

    log_in(page, live_server, "uradnik.komen")
    page.goto(f"{live_server.url}/admin/funding/budgetitem/{item.pk}/change/")
    assert page.url == f"{live_server.url}/admin/"  # the admin acts as if it did not exist
    assert "tajnica Sežane" not in page.content()
    page.goto(f"{live_server.url}/admin/funding/budgetitem/")
    assert "tajnica Sežane" not in page.content()
    assert "sekretarka območnega združenja" in page.content()  # the joint strategy's items


def test_a_clerk_downloads_the_pdf(demo, live_server, page):
    log_in(page, live_server, "referent.sezana")
    page.goto(f"{live_server.url}/reports/strategies/kras-2025-2029/2025/cost-sharing/")
    response = page.request.get(
        f"{live_server.url}/reports/strategies/kras-2025-2029/2025/cost-sharing.pdf"
    )
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(response.body())).pages[0].extract_text().split())
    assert "SKUPAJ OBČINE 194.630 98.833 31.822 34.158 29.817" in text
