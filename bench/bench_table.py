"""Benchmark of the cost-sharing table: HTML page, PDF, and a large generated strategy.

Run from the repository root (SQLite by default; set DATABASE_URL for PostgreSQL):

    DJANGO_DEBUG=1 .venv/bin/python bench/bench_table.py [--runs 15]

It creates a scratch test database, loads the demo, and prints medians:
- the demo table's HTML page, server time through Django's test client, and its query count;
- the demo PDF through the application (queries, engine, template, WeasyPrint) side by side
  with WeasyPrint alone rendering the very same HTML string with the same static-files fetcher;
- LibreOffice converting the same table as XLSX to PDF, when ``soffice`` is installed;
- a generated strategy of 30 municipalities, 300 associations and 1,500 lines: engine, HTML
  page and PDF.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from weasyprint import HTML  # noqa: E402

from funding.models import (  # noqa: E402
    BudgetCategory,
    BudgetLine,
    FundingStrategy,
    Municipality,
    StrategyAssociation,
    StrategyShare,
)
from programs.models import Association  # noqa: E402
from reports.documents import render_cost_sharing  # noqa: E402
from reports.pdf import DOCUMENT_BASE_URL, StaticFilesFetcher  # noqa: E402
from reports.selectors import cost_sharing_table  # noqa: E402


def median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def generated_strategy(municipalities=30, associations=375) -> FundingStrategy:
    """A large strategy: 1,500 lines in cents, an uneven two-decimal key, built in bulk.

    An association has at most one line per category (four) in a year, so 1,500 lines in one
    year's table take 375 associations.
    """
    strategy = FundingStrategy.objects.create(
        slug="bench-large",
        title="Generated strategy",
        start_year=2025,
        end_year=2029,
        rounding_unit="1",
    )
    towns = Municipality.objects.bulk_create(
        Municipality(name=f"Občina Kraj {i}", short_name=f"Kraj {i}", slug=f"bench-kraj-{i}")
        for i in range(municipalities)
    )
    # Shares in hundredths of a percent: uneven, summing to exactly 100.00.
    weights = [(i * 37) % 101 + 50 for i in range(municipalities)]
    hundredths = [w * 10000 // sum(weights) for w in weights]
    hundredths[0] += 10000 - sum(hundredths)
    StrategyShare.objects.bulk_create(
        StrategyShare(
            strategy=strategy, municipality=town, share_percent=Decimal(h) / 100, position=i
        )
        for i, (town, h) in enumerate(zip(towns, hundredths, strict=True))
    )
    groups = Association.objects.bulk_create(
        Association(name=f"Društvo {i}", short_name=f"Društvo {i}", slug=f"bench-drustvo-{i}")
        for i in range(associations)
    )
    StrategyAssociation.objects.bulk_create(
        StrategyAssociation(strategy=strategy, association=group, position=i)
        for i, group in enumerate(groups)
    )
    BudgetLine.objects.bulk_create(
        BudgetLine(
            strategy=strategy,
            association=group,
            year=2025,
            category=category,
            amount=Decimal(1000 + (i * 7919 + k * 104729) % 90000) + Decimal((i + k) % 100) / 100,
        )
        for i, group in enumerate(groups)
        for k, category in enumerate(BudgetCategory)
    )
    return strategy


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        client = Client()
        client.force_login(get_user_model().objects.get(username="admin"))
        demo = FundingStrategy.objects.get(slug="kras-2025-2029")
        page = f"/reports/strategies/{demo.slug}/2025/cost-sharing/"
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200

        print(f"database: {connection.vendor}; median of {runs} runs")
        print(f"{'what':58} {'median':>10}")
        row = "{:58} {:>7.1f} ms"
        print(
            row.format(
                f"demo HTML page, server time ({len(queries)} queries)",
                median_ms(lambda: client.get(page), runs),
            )
        )

        table = cost_sharing_table(demo, 2025)
        html = render_cost_sharing(table, "html").content.decode()
        app_pdf = median_ms(
            lambda: render_cost_sharing(cost_sharing_table(demo, 2025), "pdf"), runs
        )
        alone_pdf = median_ms(
            lambda: HTML(
                string=html, base_url=DOCUMENT_BASE_URL, url_fetcher=StaticFilesFetcher()
            ).write_pdf(),
            runs,
        )
        print(row.format("demo PDF through the application", app_pdf))
        print(row.format("demo PDF, WeasyPrint alone on the same HTML", alone_pdf))
        print(f"{'  ratio application / WeasyPrint alone':58} {app_pdf / alone_pdf:>9.2f}×")

        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if soffice:
            with tempfile.TemporaryDirectory() as folder:
                xlsx = Path(folder) / "table.xlsx"
                xlsx.write_bytes(render_cost_sharing(table, "xlsx").content)
                command = [
                    soffice,
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    folder,
                    str(xlsx),
                ]
                print(
                    row.format(
                        "demo XLSX → PDF by LibreOffice headless (whole process)",
                        median_ms(
                            lambda: subprocess.run(command, check=True, capture_output=True),
                            max(3, runs // 5),
                        ),
                    )
                )
        else:
            print(
                f"{'demo XLSX → PDF by LibreOffice headless':58} {'n/a':>10}"
                "  (install libreoffice-calc to compare)"
            )

        large = generated_strategy()
        size = f"30 × 375 × {BudgetLine.objects.filter(strategy=large).count():,} lines"
        print(
            row.format(
                f"{size}: table computed (queries + engine)",
                median_ms(lambda: cost_sharing_table(large, 2025), max(3, runs // 3)),
            )
        )
        large_page = f"/reports/strategies/{large.slug}/2025/cost-sharing/"
        print(
            row.format(
                f"{size}: HTML page, server time",
                median_ms(lambda: client.get(large_page), max(3, runs // 3)),
            )
        )
        large_table = cost_sharing_table(large, 2025)
        print(
            row.format(
                f"{size}: PDF", median_ms(lambda: render_cost_sharing(large_table, "pdf"), 3)
            )
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
