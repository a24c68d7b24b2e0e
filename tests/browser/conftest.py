"""Browser tests run Debian's Chromium headless against the live test server.

Without Chromium they skip with a message saying how to enable them, except when
``BROWSER_TESTS_REQUIRED=1`` (set by ``.ci/run``): then a missing browser fails the run.
"""

import os
import shutil
import subprocess

import pytest

# Playwright's sync API runs an event loop in the test's thread; Django refuses ORM calls
# from a thread with a running loop unless told that this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine has no network beyond loopback; these keep Chromium from trying.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """Chromium's path; skip (or, when BROWSER_TESTS_REQUIRED=1, fail) without it."""
    path = chromium_path()
    if path is None:
        message = (
            "Chromium is not installed: browser tests skipped. "
            "Enable them with `apt-get install chromium` (Debian/Ubuntu)."
        )
        if os.environ.get("BROWSER_TESTS_REQUIRED") == "1":
            pytest.fail(message + " BROWSER_TESTS_REQUIRED=1 makes this a failure.")
        pytest.skip(message)
    return path


@pytest.fixture
def page(live_server):
    """A Playwright page in headless Chromium, and a helper to log a demo user in."""
    from playwright.sync_api import sync_playwright

    path = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS[1:])
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1300, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        browser.close()


@pytest.fixture
def chromium(tmp_path):
    """Run Chromium headless on a URL and return what it printed (e.g. --dump-dom)."""
    path = require_chromium()

    def run(*args: str) -> str:
        result = subprocess.run(
            [path, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    return run


@pytest.fixture(scope="session", autouse=True)
def live_server_sessions_closed(django_db_setup, django_db_blocker):
    """End the live server's leftover database sessions before the test database is dropped.

    A request thread may still be closing its PostgreSQL connection when the session ends,
    and PostgreSQL refuses to drop a database that a session is using. Only sessions on the
    test database are ended.
    """
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
