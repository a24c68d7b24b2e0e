"""The production path: settings with debug off, as a server runs them.

The settings module reads the environment once, at import; the tests of production settings
therefore run Django in a separate process with a production environment (debug off, a secret
key, hosts, a scratch SQLite database and static folder), as gunicorn would.
"""

import contextlib
import io
import json
import logging
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.templatetags.static import static
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from pypdf import PdfReader

from config.security import client_ip
from reports.pdf import BlockedURL, StaticFilesFetcher
from tests.conftest import PERSONAS

ROOT = Path(__file__).parents[1]
HOST = "funding.example.si"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production server: nothing of the test run's own settings."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key != "DATABASE_URL"
    }
    return {
        **inherited,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": f"{HOST},testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        **extra,
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


# -- check --deploy ------------------------------------------------------------------------------


def test_check_deploy_finds_nothing_with_production_settings(tmp_path):
    result = run(
        production_env(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_the_https_redirect_is_turned_off(tmp_path):
    env = production_env(tmp_path, DJANGO_SECURE_SSL_REDIRECT="0")
    result = run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


# -- bad values stop start-up --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "funding.example.si"),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "https://funding.example.si/admin/"),
        ("DJANGO_HSTS_SECONDS", "abc"),
        ("DJANGO_HSTS_SECONDS", "-1"),
        ("DJANGO_SECURE_SSL_REDIRECT", "maybe"),
        ("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto"),
        ("DJANGO_AXES_FAILURE_LIMIT", "0"),
        ("DJANGO_AXES_COOLOFF_MINUTES", "15min"),
        ("DJANGO_TRUSTED_PROXY_COUNT", "one"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, variable, value):
    result = run(production_env(tmp_path, **{variable: value}), "-c", "import config.settings")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable}={value!r}" in result.stderr


def test_trusted_origins_and_the_proxy_header_are_read_from_the_environment(tmp_path):
    env = production_env(
        tmp_path,
        DJANGO_CSRF_TRUSTED_ORIGINS="https://funding.example.si, https://sofinanciranje.obcina.si",
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO",
    )
    script = (
        "import config.settings as s; "
        "print(s.CSRF_TRUSTED_ORIGINS, s.SECURE_PROXY_SSL_HEADER, s.SECURE_HSTS_SECONDS)"
    )
    result = run(env, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "['https://funding.example.si', 'https://sofinanciranje.obcina.si'] "
        "('HTTP_X_FORWARDED_PROTO', 'https') 31536000"
    )


# -- a production server's responses -------------------------------------------------------------

RESPONSES_SCRIPT = """
import json

import django

django.setup()
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client

get_user_model().objects.create_user("uradnica", password="Pravo-geslo-2025", is_staff=True)
client = Client()
out = {}


def headers(response):
    return {"status": response.status_code, **{k.lower(): v for k, v in response.items()}}


out["https_page"] = headers(client.get("/admin/login/", secure=True))
out["http_page"] = headers(client.get("/admin/login/?next=/admin/"))
out["proxied_page"] = headers(client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https"))
login = client.post(
    "/admin/login/",
    {"username": "uradnica", "password": "Pravo-geslo-2025", "next": "/admin/"},
    secure=True,
)
out["login"] = headers(login)
cookie = login.cookies["sessionid"]
out["session_cookie"] = {"secure": cookie["secure"], "httponly": cookie["httponly"]}
css = staticfiles_storage.url("css/admin.css")
out["css_url"] = css
out["css"] = headers(client.get(css, secure=True, HTTP_ACCEPT_ENCODING="gzip"))
out["css_br"] = headers(client.get(css, secure=True, HTTP_ACCEPT_ENCODING="gzip, br"))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_site(tmp_path_factory):
    """A migrated database and collected static files, made as the README's deployment does."""
    tmp_path = tmp_path_factory.mktemp("production")
    env = production_env(tmp_path, DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO")
    for command in (["migrate", "--no-input"], ["collectstatic", "--no-input"]):
        result = run(env, "manage.py", *command)
        assert result.returncode == 0, result.stderr
    return {"env": env, "static_root": tmp_path / "static", "db": tmp_path / "production.sqlite3"}


@pytest.fixture(scope="module")
def responses(production_site):
    result = run(
        {**production_site["env"], "DJANGO_SETTINGS_MODULE": "config.settings"},
        "-c",
        RESPONSES_SCRIPT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


def test_pages_carry_an_enforced_content_security_policy(responses):
    page = responses["https_page"]
    assert page["status"] == 200
    assert "content-security-policy-report-only" not in page
    policy = directives(page["content-security-policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in page["content-security-policy"]


def test_pages_over_https_carry_hsts_and_the_other_security_headers(responses):
    page = responses["https_page"]
    assert page["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert page["x-frame-options"] == "DENY"
    assert page["x-content-type-options"] == "nosniff"
    assert page["referrer-policy"] == "same-origin"
    assert page["cross-origin-opener-policy"] == "same-origin"


def test_plain_http_is_redirected_to_https(responses):
    page = responses["http_page"]
    assert page["status"] == 301
    assert page["location"] == "https://testserver/admin/login/?next=/admin/"
    assert "strict-transport-security" not in page  # only ever sent over HTTPS


def test_https_reported_by_the_configured_proxy_header_is_trusted(responses):
    page = responses["proxied_page"]
    assert page["status"] == 200
    assert "strict-transport-security" in page


def test_the_session_cookie_is_secure_and_hidden_from_scripts(responses):
    assert responses["login"]["status"] == 302
    assert responses["login"]["location"] == "/admin/"
    assert responses["session_cookie"] == {"secure": True, "httponly": True}


def test_static_files_have_hashed_names_and_are_served_compressed(responses):
    assert re.fullmatch(r"/static/css/admin\.[0-9a-f]{12}\.css", responses["css_url"])
    css = responses["css"]
    assert css["status"] == 200
    assert css["content-encoding"] == "gzip"
    assert "max-age=315360000" in css["cache-control"]  # hashed names never change
    assert responses["css_br"]["content-encoding"] == "br"


def test_load_demo_refuses_to_create_demo_users_in_production(production_site):
    result = run(production_site["env"], "manage.py", "load_demo")
    assert result.returncode == 1
    assert "DJANGO_DEBUG=1" in result.stderr
    with sqlite3.connect(production_site["db"]) as db:
        usernames = {row[0] for row in db.execute("SELECT username FROM auth_user")}
        strategies = db.execute("SELECT COUNT(*) FROM funding_fundingstrategy").fetchone()[0]
    assert not usernames & set(PERSONAS)
    assert strategies == 0


@pytest.mark.django_db
def test_a_pdf_gets_the_policy_chromes_pdf_viewer_can_live_with(demo, persona, client):
    # object-src 'none' would block the viewer's <embed> (crbug.com/271452); framing stays
    # forbidden.
    client.force_login(persona("referent.sezana"))
    pdf = client.get("/reports/strategies/kras-2025-2029/2025/cost-sharing.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert pdf["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy-Report-Only" not in pdf
    page = client.get("/reports/strategies/kras-2025-2029/2025/cost-sharing/")
    assert directives(page["Content-Security-Policy"])["object-src"] == ["'none'"]
    csv = client.get("/reports/strategies/kras-2025-2029/2025/cost-sharing.csv")
    assert directives(csv["Content-Security-Policy"])["script-src"] == ["'self'"]


# -- PDFs find the hashed static files -----------------------------------------------------------


@pytest.fixture
def hashed_static_files(production_site, settings):
    """Static files as production serves them: the manifest storage over the collected folder."""
    settings.STATIC_ROOT = production_site["static_root"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    return production_site["static_root"]


def test_the_pdf_fetcher_serves_the_hashed_files_production_links(hashed_static_files):
    url = static("css/print.css")
    assert re.fullmatch(r"/static/css/print\.[0-9a-f]{12}\.css", url)
    stylesheet = StaticFilesFetcher().fetch("https://documents.invalid" + url).read().decode()
    assert stylesheet == (hashed_static_files / url.removeprefix("/static/")).read_text()
    # The collected stylesheet names hashed fonts, which the fetcher serves as well.
    font = re.search(r'url\("(\.\./fonts/DejaVuSans\.[0-9a-f]{12}\.ttf)"\)', stylesheet)
    assert font, stylesheet[:300]
    # WeasyPrint resolves it against the stylesheet's URL, as a browser does.
    response = StaticFilesFetcher().fetch(urljoin(f"https://documents.invalid{url}", font.group(1)))
    assert response.read()[:4] == b"\x00\x01\x00\x00"  # a TrueType font
    with pytest.raises(BlockedURL):
        StaticFilesFetcher().fetch("https://documents.invalid/static/css/print.000000000000.css")


@pytest.mark.django_db
def test_a_pdf_prints_with_its_fonts_in_production(demo, persona, client, hashed_static_files):
    client.force_login(persona("referent.sezana"))
    response = client.get("/reports/strategies/kras-2025-2029/2025/cost-sharing.pdf")
    assert response.status_code == 200
    pdf = PdfReader(io.BytesIO(response.content))
    fonts = {
        str(font["/BaseFont"])
        for page in pdf.pages
        for font in page["/Resources"]["/Font"].values()
    }
    # The stylesheet's family with the shipped DejaVu files: the hashed CSS and fonts loaded.
    assert any("Document-Sans" in font for font in fonts), fonts


# -- failed logins -------------------------------------------------------------------------------

LOCKOUT = "Preveč neuspelih prijav. Poskusite znova čez 15 minut."


@pytest.fixture
def officer(django_user_model):
    return django_user_model.objects.create_user(
        "uradnica", password="Pravo-geslo-2025", is_staff=True
    )


def log_in(client, password, address="192.0.2.10", **extra):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "uradnica", "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **extra,
    )


@pytest.mark.django_db
def test_five_failed_logins_lock_the_username_out_even_with_the_right_password(
    client, officer, caplog
):
    with caplog.at_level(logging.INFO, logger="axes"):
        statuses = [log_in(client, "napačno").status_code for _ in range(5)]
        response = log_in(client, "Pravo-geslo-2025")
    assert statuses == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    text = response.content.decode()
    assert LOCKOUT in text
    assert 'lang="sl"' in text
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    # Nothing else happened: no session, no login recorded.
    assert "_auth_user_id" not in client.session
    officer.refresh_from_db()
    assert officer.last_login is None
    failures = [
        record
        for record in caplog.records
        if record.name.startswith("axes") and record.levelno == logging.WARNING
    ]
    assert any("login failure" in record.getMessage() for record in failures)
    assert any("192.0.2.10" in record.getMessage() for record in failures)
    assert any("Locking out" in record.getMessage() for record in failures)
    assert all("napačno" not in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_the_lockout_holds_one_username_at_one_address_for_the_cool_off(client, officer):
    for _ in range(5):
        log_in(client, "napačno")
    # From another address the officer still logs in.
    elsewhere = log_in(client, "Pravo-geslo-2025", address="198.51.100.7")
    assert elsewhere.status_code == 302
    assert elsewhere["Location"] == "/admin/"
    client.logout()
    assert log_in(client, "Pravo-geslo-2025").status_code == 429
    # Once the cool-off has passed, the right password works again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = log_in(client, "Pravo-geslo-2025")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(officer.pk)


@pytest.mark.django_db
def test_four_failures_and_a_success_start_the_count_again(client, officer):
    for _ in range(4):
        log_in(client, "napačno")
    assert log_in(client, "Pravo-geslo-2025").status_code == 302
    client.logout()
    assert log_in(client, "napačno").status_code == 200  # counting from one again
    assert AccessAttempt.objects.get().failures_since_start == 1


@pytest.mark.django_db
def test_a_forwarded_address_is_ignored_unless_a_proxy_is_configured(client, officer):
    # Without DJANGO_TRUSTED_PROXY_COUNT, a client cannot dodge the lockout by inventing
    # X-Forwarded-For addresses: the connection's address counts.
    for number in range(5):
        log_in(client, "napačno", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
    response = log_in(client, "Pravo-geslo-2025", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429


def test_behind_a_proxy_the_address_the_proxy_saw_counts(settings):
    factory = RequestFactory()
    request = factory.post(
        "/admin/login/",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5",  # the first one the client wrote itself
    )
    assert client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "10.9.9.9"
    settings.TRUSTED_PROXY_COUNT = 3  # fewer addresses than proxies: not through the proxies
    assert client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    bad = factory.post("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(bad) == "127.0.0.1"


@pytest.mark.django_db
def test_behind_a_proxy_one_client_is_locked_out_and_another_is_not(client, officer, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        log_in(client, "napačno", address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    locked = log_in(client, "Pravo-geslo-2025", "127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    other = log_in(client, "Pravo-geslo-2025", "127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert other.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


# -- no inline code on the admin's pages ---------------------------------------------------------

INLINE = re.compile(
    r"<script\b(?![^>]*\bsrc=)[^>]*>|\sstyle=|<style\b|\son[a-z]+=|javascript:", re.IGNORECASE
)


def admin_pages(user):
    """Every admin page of every registered model: list, add, change, history, import, export."""
    request = RequestFactory().get("/admin/")
    request.user = user
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        yield reverse(f"{name}_changelist")
        if model_admin.has_add_permission(request):  # axes' records are read-only
            yield reverse(f"{name}_add")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            yield reverse(f"{name}_change", args=[first.pk])
            yield reverse(f"{name}_history", args=[first.pk])
        for view in ("import", "export"):
            with contextlib.suppress(NoReverseMatch):
                yield reverse(f"{name}_{view}")


@pytest.mark.django_db
def test_no_page_has_inline_script_or_style(demo, persona, client):
    from programs.models import ActionPlan, AnnualReport

    superuser = persona("admin")
    client.force_login(superuser)
    plan = ActionPlan.objects.order_by("pk").first()
    report = AnnualReport.objects.order_by("pk").first()
    pages = [
        "/admin/",
        *admin_pages(superuser),
        "/reports/",
        f"/reports/strategies/{demo.slug}/2025/cost-sharing/",
        f"/reports/strategies/{demo.slug}/projection/",
        "/reports/action-plans/",
        f"/reports/action-plans/{plan.slug}/",
        f"/reports/action-plans/{plan.slug}/progress/",
        f"/reports/annual-reports/{report.pk}/",
    ]
    assert len(pages) > 80
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        found = INLINE.findall(response.content.decode())
        assert not found, (url, found)


@pytest.mark.django_db
def test_the_export_pages_select_all_box_is_bound_by_a_static_script(demo, persona, client):
    client.force_login(persona("koordinator"))
    export = client.get("/admin/funding/budgetline/export/").content.decode()
    assert "js/export-select-all.js" in export
    assert 'id="select-all-toggle"' in export
    assert "onchange" not in export
