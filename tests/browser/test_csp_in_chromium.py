"""The Content Security Policy in a real browser: the pages work and nothing is refused.

Chromium fires a ``securitypolicyviolation`` event for everything the policy blocks (an inline
script or style, an ``on…`` handler, a foreign image); the test collects them on every page.
"""

import pytest

from funding.models import BudgetLine

pytestmark = pytest.mark.django_db(transaction=True)

# Reports each violation to the test, from every page and before the page's own scripts run.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation([
    location.pathname, event.violatedDirective, event.blockedURI, event.sourceFile,
    event.lineNumber, (event.sample || "").slice(0, 80),
  ].join(" | "));
});
"""


@pytest.fixture
def violations(page):
    found = []

    def report(violation: str) -> None:
        found.append(violation)

    page.context.expose_function("reportViolation", report)
    page.context.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            found.append(f"console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return found


def visit(page, url):
    """Open a page, check that it came with the enforced policy, and let its scripts run."""
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy, policy
    page.wait_for_load_state("load")
    return response


def test_the_admin_and_the_reports_run_under_the_policy(demo, live_server, page, violations):
    line = BudgetLine.objects.filter(strategy=demo).order_by("pk").first()
    base = live_server.url
    visit(page, f"{base}/admin/login/")
    page.fill("#id_username", "koordinator")
    page.fill("#id_password", "demo")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")

    for url in [
        "/admin/",
        f"/admin/funding/fundingstrategy/{demo.pk}/change/",
        "/admin/funding/budgetline/",
        f"/admin/funding/budgetline/{line.pk}/change/",
        "/admin/funding/budgetline/import/",
        "/admin/funding/budgetline/export/",
        f"/admin/funding/budgetline/{line.pk}/history/",
        "/reports/",
        f"/reports/strategies/{demo.slug}/2025/cost-sharing/",
    ]:
        visit(page, base + url)

    # The static scripts did their work: the key's running sum under the strategy's shares …
    visit(page, f"{base}/admin/funding/fundingstrategy/{demo.pk}/change/")
    assert page.locator(".key-total").inner_text().endswith("100,00 %")
    # … and the export page's "select all" box, bound without an inline handler.
    visit(page, f"{base}/admin/funding/budgetline/export/")
    fields = page.locator(".selectable-field-export-row input[type=checkbox]")
    assert fields.count() > 1
    page.uncheck("#select-all-toggle")
    assert not any(box.is_checked() for box in fields.all())
    page.check("#select-all-toggle")
    assert all(box.is_checked() for box in fields.all())

    assert violations == []

    # The collector works: an inline script injected now is refused and reported.
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true;";
          document.body.appendChild(script);
        }"""
    )
    page.wait_for_function("() => true")
    assert page.evaluate("() => window.injected === undefined")
    page.wait_for_timeout(200)
    assert any("script-src" in violation for violation in violations), violations
