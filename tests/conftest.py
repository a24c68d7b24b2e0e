"""Shared fixtures: the demo strategy and one persona per role.

The personas are the demo users ``load_demo`` creates: a strategy coordinator, an officer of
Sežana, an officer of Komen, a council member, a clerk, an outsider (and the superuser).
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from funding.models import FundingStrategy

ROOT = Path(__file__).parents[1]
DEMO_SLUG = "kras-2025-2029"
PERSONAS = [
    "admin",
    "koordinator",
    "uradnik.sezana",
    "uradnik.komen",
    "svetnik.sezana",
    "referent.sezana",
    "zunanji",
]


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """PBKDF2 is slow by design; tests hash the demo passwords many times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db, settings) -> FundingStrategy:
    """The Kras 2025–2029 strategy and the demo users, loaded as ``make run`` loads them.

    The strategy is left a draft (``--without-adoption``) so that tests may edit its lines;
    tests of adoption walk it into force themselves. It holds the published 2025 lines only
    (``--base-year-only``): tests of copying and importing lines write 2026 themselves, and
    tests of the projection derive the later years themselves.
    """
    settings.DEBUG = True
    call_command("load_demo", "--without-adoption", "--base-year-only", stdout=io.StringIO())
    settings.DEBUG = False
    return FundingStrategy.objects.get(slug=DEMO_SLUG)


@pytest.fixture
def persona(demo):
    """Return the demo user of a given username."""

    def get(username: str):
        return get_user_model().objects.get(username=username)

    return get


@pytest.fixture
def manage_py(tmp_path):
    """Run ``manage.py`` in a separate process on a scratch SQLite database, as a user would.

    The process must not touch the test run's database, so it gets one of its own.
    """
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'scratch.sqlite3'}",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run
