"""Limits of a strategy/v1 document: its size, and the length of every text it carries."""

import io
import json
import tracemalloc

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from funding.exchange import ExchangeError, parse_strategy_document
from funding.limits import MAX_DOCUMENT_BYTES, MAX_TEXT_CHARS
from funding.management.commands.load_demo import DEMO_FILE
from funding.models import BudgetLine, FundingStrategy
from programs.models import Association

pytestmark = pytest.mark.django_db


def database_state():
    return (
        list(FundingStrategy.objects.order_by("pk").values()),
        list(BudgetLine.objects.order_by("pk").values_list("pk", "amount", "note")),
        list(Association.objects.order_by("pk").values_list("pk", "presentation")),
    )


def refusal(path) -> str:
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError) as raised:
        call_command("import_strategy", str(path), stdout=io.StringIO(), stderr=err)
    return f"{err.getvalue()}\n{raised.value}"


def demo_document() -> dict:
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


def test_a_note_longer_than_any_text_may_be_is_refused_with_its_place(demo, tmp_path):
    document = demo_document()
    document["associations"][0]["lines"][0]["note"] = "a" * (MAX_TEXT_CHARS + 1)
    path = tmp_path / "dolga.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = database_state()
    report = refusal(path)
    assert (
        f"associations[0].lines[0].note: is {MAX_TEXT_CHARS + 1} characters long; "
        f"at most {MAX_TEXT_CHARS} are allowed"
    ) in report, report
    assert database_state() == before


def test_prose_without_a_length_of_its_own_gets_the_text_limit():
    document = demo_document()
    document["associations"][1]["presentation"] = "b" * (10 * 1024 * 1024)
    document["introduction"] = "c" * (MAX_TEXT_CHARS + 1)
    with translation.override("en"), pytest.raises(ExchangeError) as raised:
        parse_strategy_document(json.dumps(document))
    problems = "\n".join(raised.value.problems)
    assert "associations[1].presentation: is 10485760 characters long" in problems
    assert f"introduction: is {MAX_TEXT_CHARS + 1} characters long" in problems


def test_the_demo_strategys_longest_prose_is_within_the_limit():
    """An association's presentation runs to 17,161 characters in the demo strategy."""
    parse_strategy_document(DEMO_FILE.read_text(encoding="utf-8"))


def test_a_document_over_the_size_limit_is_refused_before_it_is_read(db, tmp_path):
    path = tmp_path / "velika.json"
    with path.open("wb") as handle:  # a sparse gigabyte: nothing to write, much to read
        handle.truncate(1024 * 1024 * 1024)
    tracemalloc.start()
    try:
        report = refusal(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"a strategy file may have at most {MAX_DOCUMENT_BYTES}" in report, report
    assert peak < 50 * 1024 * 1024, peak
