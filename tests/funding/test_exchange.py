"""The strategy/v1 exchange format: round trips, and bad files that write nothing."""

import copy
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from funding.exchange import strategy_json
from funding.models import (
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    InKindSupport,
    Municipality,
    StrategyAssociation,
    StrategyShare,
)
from programs.models import Association, Institution, Programme

ROOT = Path(__file__).parents[2]
DEMO_FILE = ROOT / "fixtures" / "kras-2025-2029.json"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages below are asserted in English; the Slovenian default has its own test."""
    with translation.override("en"):
        yield


def export(slug="kras-2025-2029") -> str:
    out = io.StringIO()
    call_command("export_strategy", slug, stdout=out)
    return out.getvalue()


def database_state():
    """Every row of every model the importer may touch, to prove that nothing changed."""
    models = [
        FundingStrategy,
        Municipality,
        StrategyShare,
        StrategyAssociation,
        BudgetLine,
        BudgetItem,
        InKindSupport,
        Association,
        Programme,
        Institution,
    ]
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def write_file(tmp_path, content, name="strategy.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def import_file(tmp_path, content) -> str:
    """Import and return what the command printed on stderr."""
    err = io.StringIO()
    call_command(
        "import_strategy", str(write_file(tmp_path, content)), stdout=io.StringIO(), stderr=err
    )
    return err.getvalue()


def test_the_demo_fixture_is_exactly_what_export_writes(demo):
    assert export() == DEMO_FILE.read_text(encoding="utf-8")


def test_export_import_export_gives_identical_json(demo, tmp_path):
    first = export()
    import_file(tmp_path, first)
    assert export() == first
    assert FundingStrategy.objects.count() == 1
    assert BudgetLine.objects.count() == 8


def test_import_creates_a_new_strategy_under_another_slug(demo, tmp_path):
    municipalities = Municipality.objects.count()
    document = json.loads(export())
    document["slug"] = "kras-kopija"
    document["rounding_unit"] = "0.01"
    import_file(tmp_path, document)
    copy_ = FundingStrategy.objects.get(slug="kras-kopija")
    assert copy_.lines.count() == 8
    assert copy_.rounding_unit == "0.01"
    assert Municipality.objects.count() == municipalities  # matched, not duplicated
    exported = json.loads(export("kras-kopija"))
    assert exported["associations"] == json.loads(export())["associations"]


def test_import_replaces_lines_of_an_existing_strategy(demo, tmp_path):
    document = json.loads(export())
    po_moc = document["associations"][0]
    po_moc["lines"] = [{"year": 2026, "category": "Drugi stroški", "amount": "12.34"}]
    import_file(tmp_path, document)
    lines = BudgetLine.objects.filter(strategy=demo, association__slug="po-moc")
    assert [(line.year, line.category, str(line.amount)) for line in lines] == [
        (2026, "other", "12.34")
    ]


def test_the_minimal_document_of_the_issue_is_accepted(db, tmp_path):
    document = {
        "format": "strategy/v1",
        "slug": "mala",
        "title": "Mala strategija",
        "start_year": 2025,
        "end_year": 2026,
        "rounding_unit": "0.01",
        "municipalities": [
            {"slug": "a", "name": "Občina A", "share_percent": "60.01"},
            {"slug": "b", "name": "Občina B", "share_percent": "39.99"},
        ],
        "associations": [
            {
                "slug": "d",
                "name": "Društvo D",
                "lines": [{"year": 2026, "category": "Stroški zaposlenih", "amount": "10"}],
            }
        ],
    }
    import_file(tmp_path, document)
    line = BudgetLine.objects.get()
    assert (line.strategy.slug, line.year, str(line.amount)) == ("mala", 2026, "10.00")


def _demo_document():
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


def _mutate(change):
    document = _demo_document()
    change(document)
    return document


def _set(path, value):
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(key):
    return lambda document: document.pop(key)


def _append_duplicate_line(document):
    lines = document["associations"][1]["lines"]
    lines.append(copy.deepcopy(lines[0]))


def _duplicate_association(document):
    document["associations"][3]["slug"] = "vezi"


def _duplicate_programme(document):
    programmes = document["associations"][1]["programmes"]
    programmes.append(copy.deepcopy(programmes[0]))


def _duplicate_municipality(document):
    document["municipalities"][1]["slug"] = "sezana"


BAD_FILES = {
    "not JSON": (b"{not json", "not valid JSON"),
    "not UTF-8": ("šifra".encode("utf-16"), "not UTF-8"),
    "JSON array": (b"[1, 2, 3]", "one JSON object"),
    "wrong format tag": (_mutate(_set(["format"], "strategy/v2")), '"strategy/v2"'),
    "missing title": (_mutate(_delete("title")), "strategy: the required key “title”"),
    "missing municipalities": (_mutate(_delete("municipalities")), "“municipalities”"),
    "shares not 100": (
        _mutate(_set(["municipalities", 0, "share_percent"], "50.77")),
        "municipalities: the shares add up to 99.99",
    ),
    "share of zero": (
        _mutate(_set(["municipalities", 3, "share_percent"], "0.00")),
        'municipalities[3].share_percent: "0.00" must be more than 0',
    ),
    "negative amount": (
        _mutate(_set(["associations", 0, "lines", 0, "amount"], "-5047.00")),
        'associations[0].lines[0].amount: "-5047.00" must not be negative',
    ),
    "text amount": (
        _mutate(_set(["associations", 0, "lines", 1, "amount"], "šest tisoč")),
        'associations[0].lines[1].amount: "šest tisoč" is not a decimal number',
    ),
    "amount as a JSON number": (
        _mutate(_set(["associations", 0, "lines", 1, "amount"], 6721.0)),
        "associations[0].lines[1].amount: 6721.0 must be a decimal number written as a string",
    ),
    "three decimals": (
        _mutate(_set(["associations", 0, "lines", 1, "amount"], "6721.005")),
        'associations[0].lines[1].amount: "6721.005" has more than two decimals',
    ),
    "year outside the period": (
        _mutate(_set(["associations", 2, "lines", 1, "year"], 2030)),
        "associations[2].lines[1].year: 2030 lies outside the strategy's period 2025–2029",
    ),
    "year as text": (
        _mutate(_set(["associations", 2, "lines", 1, "year"], "2025")),
        'associations[2].lines[1].year: "2025" is not a whole number',
    ),
    "duplicate line": (
        _mutate(_append_duplicate_line),
        "associations[1].lines[2]: a second line for 2025, Stroški zaposlenih",
    ),
    "unknown category": (
        _mutate(_set(["associations", 0, "lines", 0, "category"], "Potni stroški")),
        'associations[0].lines[0].category: "Potni stroški" is not one of',
    ),
    "duplicate municipality": (
        _mutate(_duplicate_municipality),
        'municipalities[1].slug: "sezana" appears twice',
    ),
    "duplicate association": (
        _mutate(_duplicate_association),
        'associations[3].slug: "vezi" appears twice',
    ),
    "duplicate programme": (
        _mutate(_duplicate_programme),
        'associations[1].programmes[4].name: "Mreža stanovanjskih skupin" appears twice',
    ),
    "items that do not add up": (
        _mutate(_set(["associations", 2, "lines", 0, "items", 0, "amount"], "24384.00")),
        "associations[2].lines[0].items: the items add up to 51439.00, but the line's amount is "
        "51438.00",
    ),
    "pay grade out of scale": (
        _mutate(_set(["associations", 2, "lines", 0, "items", 1, "pay_grade"], 70)),
        "associations[2].lines[0].items[1].pay_grade: 70 lies outside 1–65",
    ),
    "start after end": (
        _mutate(_set(["start_year"], 2030)),
        "strategy.end_year: the last year 2029 is before the first year 2030",
    ),
    "bad slug": (_mutate(_set(["slug"], "Kras 2025")), '"Kras 2025" is not a slug'),
    "unknown lead municipality": (
        _mutate(_set(["lead_municipality"], "koper")),
        'strategy.lead_municipality: "koper" is not one of the strategy\'s municipalities',
    ),
    "in-kind support of an unknown association": (
        _mutate(_set(["in_kind_support", 0, "association"], "neznano")),
        'in_kind_support[0].association: "neznano" is not one of the strategy\'s associations',
    ),
    "unknown funder": (
        _mutate(_set(["associations", 0, "programmes", 0, "other_funders"], ["ZZZS"])),
        'associations[0].programmes[0].other_funders: "ZZZS" is not listed under “institutions”',
    ),
    "unknown legal status": (
        _mutate(_set(["associations", 0, "legal_status"], "zavod")),
        'associations[0].legal_status: "zavod" is not one of',
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_with_its_place_and_writes_nothing(demo, tmp_path, case):
    content, expected = BAD_FILES[case]
    before = database_state()
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_strategy", str(write_file(tmp_path, content)), stderr=err)
    # Problems found in the document are listed on stderr; a file that cannot be read at all
    # is explained by the error itself.
    message = f"{err.getvalue()}\n{raised.value}"
    assert expected in message, message
    assert database_state() == before


def test_every_problem_of_a_file_is_reported_at_once(demo, tmp_path):
    document = _demo_document()
    document["associations"][0]["lines"][0]["amount"] = "-1"
    document["associations"][3]["lines"][1]["year"] = 2031
    document["municipalities"][2]["share_percent"] = "17.56"
    err = io.StringIO()
    path = tmp_path / "many.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError, match="3 problems"):
        call_command("import_strategy", str(path), stderr=err)
    assert "associations[0].lines[0].amount" in err.getvalue()
    assert "associations[3].lines[1].year" in err.getvalue()
    assert "the shares add up to 100.01" in err.getvalue()


def test_a_conflict_found_while_writing_rolls_back_everything(demo, tmp_path):
    """A new municipality whose name another municipality already has fails mid-import."""
    document = _demo_document()
    document["slug"] = "nova"
    document["municipalities"][3]["slug"] = "komen-2"  # name "Občina Komen" is taken by komen
    document["lead_municipality"] = "sezana"
    document["in_kind_support"] = []
    before = database_state()
    err = io.StringIO()
    path = tmp_path / "conflict.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_strategy", str(path), stderr=err)
    assert "municipalities[3].name" in err.getvalue()
    assert database_state() == before


def test_a_missing_file_is_refused(db):
    with pytest.raises(CommandError, match=r"Cannot read /nonexistent/strategy\.json"):
        call_command("import_strategy", "/nonexistent/strategy.json")


def test_exporting_an_unknown_strategy_fails_with_the_known_ones(demo):
    with pytest.raises(CommandError, match="kras-2025-2029"):
        export("ni-je")


def test_the_command_exits_with_status_1_on_a_bad_file(tmp_path, manage_py):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "strategy/v2"}', encoding="utf-8")
    result = manage_py("import_strategy", str(bad))
    assert result.returncode == 1
    assert "strategy/v2" in result.stderr


def test_strategy_json_is_sorted_by_the_document_order(demo):
    document = json.loads(strategy_json(demo))
    assert [m["slug"] for m in document["municipalities"]] == [
        "sezana",
        "divaca",
        "hrpelje-kozina",
        "komen",
    ]
    assert [a["slug"] for a in document["associations"]] == [
        "po-moc",
        "vezi",
        "rk-sezana",
        "mdpm-sezana",
    ]
    assert [line["category"] for line in document["associations"][0]["lines"]] == [
        "Materialni stroški zaposlenih",
        "Materialni stroški programa",
    ]


def test_messages_are_slovenian_by_default(demo, tmp_path):
    path = tmp_path / "negative.json"
    path.write_text(
        json.dumps(_mutate(_set(["associations", 0, "lines", 0, "amount"], "-5047.00"))),
        encoding="utf-8",
    )
    err = io.StringIO()
    with translation.override("sl"), pytest.raises(CommandError, match="ni bila uvožena"):
        call_command("import_strategy", str(path), stderr=err)
    assert 'associations[0].lines[0].amount: "-5047.00" ne sme biti negativn' in err.getvalue()
