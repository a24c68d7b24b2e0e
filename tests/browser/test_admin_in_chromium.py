"""The admin opens in a real browser, in Slovenian."""

import pytest


@pytest.mark.django_db(transaction=True)
def test_the_admin_login_page_renders_in_chromium(chromium, live_server, tmp_path):
    dom = chromium("--dump-dom", f"{live_server.url}/")
    assert '<html lang="sl"' in dom
    assert "Uporabniško ime" in dom  # the login form, reached through two redirects
    shot = tmp_path / "login.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,800", f"{live_server.url}/admin/login/")
    assert shot.stat().st_size > 5000
