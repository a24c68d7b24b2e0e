"""Benchmark of the apportionment engine alone: plain values, no Django, no database.

Run from the repository root:

    .venv/bin/python bench/bench_engine.py [--runs 15]

It times ``apportion`` (median and fastest of ``--runs`` calls, after one warm-up call) on the
demo case, the Kras strategy 2025–2029 (4 municipalities, 4 associations, 8 lines), and on a
generated strategy of 30 municipalities, 300 associations and 1,500 lines (amounts in cents,
shares with two decimals, fixed random seed), each in whole euros and in cents, and prints how
many figures the table has and how many of them differ from half-up rounding.
"""

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from funding.apportionment import Node, apportion  # noqa: E402

UNITS = [Decimal("1"), Decimal("0.01")]


def demo_case() -> tuple[tuple[Node, ...], list[Decimal]]:
    strategy = json.loads((ROOT / "fixtures" / "kras-2025-2029.json").read_text(encoding="utf-8"))
    nodes = tuple(
        Node(
            association["slug"],
            children=tuple(
                Node(line["category"], Decimal(line["amount"])) for line in association["lines"]
            ),
        )
        for association in strategy["associations"]
    )
    return nodes, [Decimal(m["share_percent"]) for m in strategy["municipalities"]]


def generated_case(
    municipalities: int = 30, associations: int = 300, lines: int = 5, seed: int = 2025
) -> tuple[tuple[Node, ...], list[Decimal]]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, 10_000), municipalities - 1))
    bounds = [0, *cuts, 10_000]
    shares = [Decimal(high - low).scaleb(-2) for low, high in itertools.pairwise(bounds)]
    nodes = tuple(
        Node(
            f"association {a}",
            children=tuple(
                Node(f"line {line}", Decimal(rng.randint(100_00, 80_000_00)).scaleb(-2))
                for line in range(lines)
            ),
        )
        for a in range(associations)
    )
    return nodes, shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs

    cases = [
        ("demo: 4 municipalities × 8 lines", *demo_case()),
        ("generated: 30 municipalities × 1,500 lines", *generated_case()),
    ]
    print(f"apportion, {runs} runs each, milliseconds")
    print(f"{'case':<44} {'unit':>5} {'median':>9} {'fastest':>9} {'figures':>8} {'adjusted':>9}")
    for name, nodes, shares in cases:
        for unit in UNITS:
            table = apportion(nodes, shares, unit)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                result = apportion(nodes, shares, unit)
                times.append(time.perf_counter() - start)
                del result  # freeing the table is not part of the call
            figures = (len(table.rows) + 1) * (len(shares) + 1)
            print(
                f"{name:<44} {unit!s:>5} {statistics.median(times) * 1000:>9.1f}"
                f" {min(times) * 1000:>9.1f} {figures:>8,} {len(table.adjustments()):>9,}"
            )


if __name__ == "__main__":
    main()
