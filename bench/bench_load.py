"""Load test: many readers against gunicorn in production mode on PostgreSQL, loopback only.

Run from the repository root (needs Debian's ``wrk`` and a PostgreSQL server):

    .venv/bin/python bench/bench_load.py [--connections 50] [--duration 60] [--workers 2]

What it does:
1. creates a scratch database (``funding_load`` on the server of ``--database-url``), migrates it
   and loads the demo data (with debug on, the only mode in which ``load_demo`` runs);
2. collects the static files with the production storage (hashed, compressed names);
3. opens one session per reader — council members of Sežana, Velenje and Kranj, an officer of
   Sežana, the coordinator — straight in the session store, so the run measures reading, not
   logging in (the login form is throttled by django-axes in production);
4. starts ``gunicorn config.wsgi`` with ``--workers`` sync workers and debug off, behind no proxy
   but with every request saying ``X-Forwarded-Proto: https``, as nginx would;
5. checks that every page answers 200 to its reader, then runs ``wrk`` with ``--connections``
   readers for ``--duration`` seconds over the mix: the cost-sharing table of every year, the
   published annual reports, and the admin's list of budget lines;
6. prints requests per second, p50/p95/p99 latency, non-200 answers and socket errors, and the
   workers' memory.

Demo users in a production-mode server: only here, on a throw-away database on loopback; the
product's own ``load_demo`` refuses to run with debug off.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
STRATEGY = "kras-2025-2029"

# Reader → the pages that reader reads; every page is one a real reader of that role opens.
SESSIONS_SCRIPT = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from funding.models import BudgetLine
from programs.models import AnnualReport

users = {u.username: u for u in get_user_model().objects.all()}
def session(username):
    user = users[username]
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key

years = sorted(set(BudgetLine.objects.filter(strategy__slug=%(strategy)r)
                   .values_list("year", flat=True)))
reports = {
    r.pk: list(r.municipalities.values_list("slug", flat=True))
    for r in AnnualReport.objects.filter(status="published")
}
print(json.dumps({
    "sessions": {name: session(name) for name in
                 ["svetnik.sezana", "uradnik.sezana", "koordinator", "svetnik.velenje",
                  "svetnik.kranj"]},
    "years": years,
    "reports": reports,
}))
"""


def run(args, env, **kwargs):
    return subprocess.run(args, cwd=ROOT, env=env, check=True, text=True, **kwargs)


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(url.replace(parts.path, "/postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def request_mix(setup: dict) -> list[tuple[str, str, str]]:
    """(path, cookie, what) for each page of the mix."""
    sessions = setup["sessions"]
    cookie = {name: f"sessionid={key}" for name, key in sessions.items()}
    mix = []
    for year in setup["years"]:
        path = f"/reports/strategies/{STRATEGY}/{year}/cost-sharing/"
        mix.append((path, cookie["svetnik.sezana"], "cost-sharing table"))
        mix.append((path, cookie["uradnik.sezana"], "cost-sharing table"))
    for pk, municipalities in setup["reports"].items():
        reader = "svetnik.velenje" if "velenje" in municipalities else "svetnik.kranj"
        mix.append((f"/reports/annual-reports/{pk}/", cookie[reader], "annual report"))
    for reader in ["koordinator", "uradnik.sezana", "svetnik.sezana"]:
        mix.append(("/admin/funding/budgetline/", cookie[reader], "admin budget lines"))
    return mix


def fetch(port: int, path: str, cookie: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Cookie": cookie, "X-Forwarded-Proto": "https"},
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Through fetch: a plain-HTTP request without the proxy's header is redirected to https.
        try:
            if fetch(port, "/static/css/app.css", "") == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.3)
    sys.exit(f"gunicorn did not answer on port {port} within {timeout} s")


def rss_mb(pid: int) -> float:
    total = 0
    for child in [pid, *children(pid)]:
        status = Path(f"/proc/{child}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return total / 1024


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/funding_load")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DATABASE_URL": options.database_url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
    }
    debug_env = {**base_env, "DJANGO_DEBUG": "1"}
    production_env = {**base_env, "DJANGO_DEBUG": "0"}

    print(f"== database {options.database_url}: migrate, load the demo")
    recreate_database(options.database_url)
    run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], debug_env)
    run([PYTHON, "manage.py", "load_demo"], debug_env, stdout=subprocess.DEVNULL)
    run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"], production_env)
    setup = json.loads(
        run(
            [PYTHON, "manage.py", "shell", "-v0", "-c", SESSIONS_SCRIPT % {"strategy": STRATEGY}],
            debug_env,
            capture_output=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    mix = request_mix(setup)

    print(f"== gunicorn, {options.workers} workers, debug off, port {options.port}")
    server = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "config.wsgi",
            "--workers", str(options.workers),
            "--bind", f"127.0.0.1:{options.port}",
            "--timeout", "60",
            "--log-level", "warning",
        ],
        cwd=ROOT,
        env=production_env,
    )  # fmt: skip
    try:
        wait_for(options.port)
        for path, cookie, what in mix:
            status = fetch(options.port, path, cookie)
            if status != 200:
                sys.exit(f"{what} {path} answered {status} before the load; nothing measured")
        kinds = sorted({what for _, _, what in mix})
        print(f"   {len(mix)} pages, all 200: " + ", ".join(kinds))

        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as listing:
            listing.writelines(f"{path}\t{cookie}\n" for path, cookie, _ in mix)
        print(f"== wrk: {options.connections} readers for {options.duration} s")
        result = subprocess.run(
            [
                "wrk", "--threads", "2", "--connections", str(options.connections),
                "--duration", f"{options.duration}s", "--timeout", "30s",
                "--script", str(ROOT / "bench" / "load.lua"),
                f"http://127.0.0.1:{options.port}/",
            ],
            env={**os.environ, "LOAD_REQUESTS": listing.name},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        Path(listing.name).unlink()
        memory = rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT"))
    figures = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
    seconds = figures["duration_us"] / 1e6
    errors = sum(figures[k] for k in ["connect", "read", "write", "status", "timeout"])
    print(f"   requests      {figures['requests']:,} in {seconds:.1f} s")
    print(f"   throughput    {figures['requests'] / seconds:.1f} requests/s")
    print(
        "   latency       p50 {:.0f} ms, p95 {:.0f} ms, p99 {:.0f} ms, max {:.0f} ms".format(
            *(figures[k] / 1000 for k in ["p50_us", "p95_us", "p99_us", "max_us"])
        )
    )
    print(f"   not 200       {figures['not_200']}")
    print(f"   socket errors {errors}")
    print(f"   gunicorn RSS  {memory:.0f} MB (master and workers)")
    if figures["not_200"] or errors:
        sys.exit("the load produced errors")


if __name__ == "__main__":
    main()
