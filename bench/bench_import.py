"""Benchmark of ``import_budget_lines``: 10,000 budget lines from one CSV file, history included.

Run from the repository root (SQLite by default; set DATABASE_URL for PostgreSQL):

    DJANGO_DEBUG=1 .venv/bin/python bench/bench_import.py [--runs 3]

It creates a scratch test database with a strategy of 2025–2029 and 500 associations, writes a
";"-separated CSV of 500 associations × 4 categories × 5 years with Slovenian amounts
("1.234,56"), and times the command's code path (``call_command``) three ways:
- creating all 10,000 lines (the lines and their history are deleted between runs);
- importing the same file again (every row unchanged, nothing written);
- importing a file in which every amount changed (10,000 updates with history).
"""

import argparse
import os
import statistics
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

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from funding.models import (  # noqa: E402
    CATEGORY_EXCHANGE_LABELS,
    BudgetLine,
    FundingStrategy,
    StrategyAssociation,
)
from programs.models import Association  # noqa: E402

ASSOCIATIONS = 500
YEARS = range(2025, 2030)


def bench_strategy() -> FundingStrategy:
    strategy = FundingStrategy.objects.create(
        slug="bench-import", title="Generated strategy", start_year=2025, end_year=2029
    )
    groups = Association.objects.bulk_create(
        Association(name=f"Društvo {i}", short_name=f"Društvo {i}", slug=f"bench-drustvo-{i}")
        for i in range(ASSOCIATIONS)
    )
    StrategyAssociation.objects.bulk_create(
        StrategyAssociation(strategy=strategy, association=group, position=i)
        for i, group in enumerate(groups)
    )
    return strategy


def slovenian(amount: Decimal) -> str:
    """1234.5 as Slovenian Excel writes it: 1.234,50."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def write_csv(path: Path, shift: int = 0) -> int:
    rows = ["strategija;leto;društvo;kategorija;opis;znesek"]
    for i in range(ASSOCIATIONS):
        for k, label in enumerate(CATEGORY_EXCHANGE_LABELS.values()):
            for year in YEARS:
                cents = 100_000 + (i * 7919 + k * 104729 + year * 31 + shift) % 9_000_000
                amount = Decimal(cents) / 100
                rows.append(f"bench-import;{year};bench-drustvo-{i};{label};;{slovenian(amount)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows) - 1


def timed_import(path: Path) -> float:
    start = time.perf_counter()
    call_command("import_budget_lines", str(path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    return time.perf_counter() - start


def clear(strategy) -> None:
    BudgetLine.objects.filter(strategy=strategy).delete()
    BudgetLine.history.all().delete()


def report(what: str, seconds: list[float], rows: int) -> None:
    median = statistics.median(seconds)
    print(
        f"{what:44} median {median:6.2f} s  total {sum(seconds):6.2f} s  "
        f"{rows / median:8,.0f} rows/s  ({len(seconds)} runs)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        strategy = bench_strategy()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "lines.csv"
            rows = write_csv(path)
            changed = Path(folder) / "changed.csv"
            write_csv(changed, shift=1)
            print(
                f"database: {connection.vendor}; {rows:,} lines in a "
                f"{path.stat().st_size / 1024 / 1024:.1f} MB CSV"
            )
            creating = []
            for _ in range(runs):
                clear(strategy)
                creating.append(timed_import(path))
            assert BudgetLine.objects.filter(strategy=strategy).count() == rows
            assert BudgetLine.history.count() == rows
            report("create 10,000 lines (+ history)", creating, rows)
            report(
                "same file again (all unchanged)", [timed_import(path) for _ in range(runs)], rows
            )
            updating = []
            for run in range(runs):
                updating.append(timed_import(changed if run % 2 == 0 else path))
            assert BudgetLine.history.count() == rows * (1 + runs)
            report("every amount changed (10,000 updates)", updating, rows)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
