"""Settings come from the environment and fail loudly on bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_list

ROOT = Path(__file__).parents[1]


def test_env_bool_refuses_a_value_that_is_not_a_boolean(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG='maybe' is not a boolean"):
        env_bool("SOME_FLAG", default=False)
    monkeypatch.setenv("SOME_FLAG", "Yes")
    assert env_bool("SOME_FLAG", default=False) is True


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.si, ,b.si ")
    assert env_list("HOSTS", []) == ["a.si", "b.si"]


def _import_settings(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS)"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_secret_key_is_required_when_debug_is_off():
    result = _import_settings(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_read_key_and_hosts_from_the_environment():
    result = _import_settings(DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="funding.example.si")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['funding.example.si']"


def test_the_language_and_formats_are_slovenian():
    assert settings.LANGUAGE_CODE == "sl"
    assert settings.TIME_ZONE == "Europe/Ljubljana"
    from datetime import date
    from decimal import Decimal

    from django.utils import formats, translation

    with translation.override("sl"):
        assert formats.localize(Decimal("1234.56"), use_l10n=True) == "1.234,56"
        assert formats.date_format(date(2025, 3, 25), "SHORT_DATE_FORMAT") == "25. 3. 2025"


def test_the_database_is_the_one_database_url_names():
    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert engine == "django.db.backends.postgresql"
    else:
        assert engine == "django.db.backends.sqlite3"
