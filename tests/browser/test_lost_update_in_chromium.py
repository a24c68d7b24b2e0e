"""Two officers in two browsers open the same line; the second save is refused, not lost."""

from decimal import Decimal

import pytest

from funding.models import BudgetLine
from tests.browser.conftest import CHROMIUM_FLAGS, require_chromium

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in_page(browser, live_server, username):
    """A page of a browser context of its own: its own cookies, as a second officer has."""
    page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def test_the_second_of_two_browsers_saving_a_line_is_refused(demo, live_server):
    from playwright.sync_api import sync_playwright

    line = BudgetLine.objects.get(
        strategy=demo, association__slug="po-moc", category="programme_material"
    )
    url = f"{live_server.url}/admin/funding/budgetline/{line.pk}/change/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=require_chromium(), args=CHROMIUM_FLAGS[1:]
        )
        coordinator = logged_in_page(browser, live_server, "koordinator")
        admin = logged_in_page(browser, live_server, "admin")
        coordinator.goto(url)
        admin.goto(url)  # both have the line open at the same version

        coordinator.fill("input[name=amount]", "6.800,00")
        coordinator.click("input[name=_save]")
        coordinator.wait_for_url(f"{live_server.url}/admin/funding/budgetline/")

        admin.fill("input[name=amount]", "6.900,00")
        admin.click("input[name=_save]")
        admin.wait_for_load_state()
        error = admin.locator(".errornote, .errorlist.nonfield").first.inner_text()
        assert "Nič ni bilo shranjeno" in admin.content()
        assert error
        assert admin.input_value("input[name=amount]") == "6.900,00"  # the input is kept
        line.refresh_from_db()
        assert line.amount == Decimal("6800.00")

        # Having compared, the administrator saves again on purpose: now it overwrites.
        admin.click("input[name=_save]")
        admin.wait_for_url(f"{live_server.url}/admin/funding/budgetline/")
        line.refresh_from_db()
        assert line.amount == Decimal("6900.00")
        browser.close()
