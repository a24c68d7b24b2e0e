"""Benchmark of the import limits: how long each hostile file takes to be refused, and its memory.

Run from the repository root:

    DJANGO_DEBUG=1 .venv/bin/python bench/bench_import_limits.py

For each small hostile file of ``tests/funding/hostile_files.py`` (a cell at A1048576, a sheet
declaring A1:XFD1048576, 5 MB of blank lines, a 100 MB text cell…) it reads the file as every
import does (``funding.imports.read_table``, which the admin's formats and the commands call)
and prints the file's size, the wall time of a plain run, the peak of Python memory of a second
run under tracemalloc, and the first words of the refusal. Nothing touches the database.
"""

import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.utils import translation  # noqa: E402

from funding.imports import ImportFileError, read_table  # noqa: E402
from tests.funding.hostile_files import HOSTILE_FILES  # noqa: E402


def outcome(raw: bytes, file_name: str) -> str:
    try:
        dataset = read_table(raw, file_name)
    except ImportFileError as error:
        return error.problems[0]
    return f"read {len(dataset)} rows (not refused)"


def main() -> None:
    translation.activate("en")
    print(f"{'file':34} {'bytes':>9} {'seconds':>8} {'peak MB':>8}  refusal")
    for name, file_name, build in HOSTILE_FILES:
        raw = build()
        started = time.perf_counter()
        said = outcome(raw, file_name)
        seconds = time.perf_counter() - started
        tracemalloc.start()
        outcome(raw, file_name)
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        print(f"{name:34} {len(raw):9d} {seconds:8.2f} {peak:8.1f}  {said[:70]}")


if __name__ == "__main__":
    main()
