"""Browser tests run Debian's Chromium headless against the live test server.

Without Chromium they skip with a message saying how to enable them, except when
``BROWSER_TESTS_REQUIRED=1`` (set by ``.ci/run``): then a missing browser fails the run.
"""

import os
import shutil
import subprocess

import pytest

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


@pytest.fixture
def chromium(tmp_path):
    """Run Chromium headless on a URL and return what it printed (e.g. --dump-dom)."""
    path = chromium_path()
    if path is None:
        message = (
            "Chromium is not installed: browser tests skipped. "
            "Enable them with `apt-get install chromium` (Debian/Ubuntu)."
        )
        if os.environ.get("BROWSER_TESTS_REQUIRED") == "1":
            pytest.fail(message + " BROWSER_TESTS_REQUIRED=1 makes this a failure.")
        pytest.skip(message)

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
