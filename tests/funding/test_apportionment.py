"""The apportionment engine keeps its guarantees for any input; plain values, no database."""

import csv
import itertools
import json
import os
import subprocess
import sys
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funding.apportionment import Adjustment, Figure, Node, Row, Table, apportion

ROOT = Path(__file__).parents[2]
SEED = ROOT / "fixtures" / "kras-2025-2029.json"
PUBLISHED = ROOT / "fixtures" / "reference" / "kras-2025-cost-sharing-as-published.csv"
PUBLISHED_COLUMNS = ["sezana_eur", "divaca_eur", "hrpelje_kozina_eur", "komen_eur"]
EURO, CENT = Decimal("1"), Decimal("0.01")


# The reference model, written independently of the engine ------------------------------------


def exact_total(node: Node) -> Decimal:
    if not node.children:
        return node.amount
    return sum((exact_total(child) for child in node.children), Decimal(0))


def exact_cells(total: Decimal, shares) -> list[Decimal]:
    with localcontext(prec=100):
        return [total * share / 100 for share in shares]


def pre_order(nodes, path=()):
    """(path, node) for every node, each node before its children."""
    for node in nodes:
        yield (*path, node.key), node
        yield from pre_order(node.children, (*path, node.key))


def rounded(exact: Decimal, unit: Decimal, rounding: str) -> Decimal:
    return exact.quantize(unit.normalize(), rounding=rounding)


def figures_of(row: Row) -> list[Figure]:
    return [row.total, *row.shares]


def assert_guarantees(table: Table, nodes, shares, unit: Decimal) -> None:
    """Guarantees 1 and 2, and the table's shape, checked against the reference model."""
    expected = list(pre_order(nodes))
    assert [row.path for row in table.rows] == [path for path, _ in expected]
    assert table.total.path == ()
    grand = sum((exact_total(node) for node in nodes), Decimal(0))

    # 1: every number is its exact value rounded down or up to the unit.
    exact_rows = [
        (exact_total(node), row) for (_, node), row in zip(expected, table.rows, strict=True)
    ]
    for total, row in [*exact_rows, (grand, table.total)]:
        assert len(row.shares) == len(shares)
        for exact, figure in zip(
            [total, *exact_cells(total, shares)], figures_of(row), strict=True
        ):
            assert figure.exact == exact
            assert figure.half_up == rounded(exact, unit, ROUND_HALF_UP)
            assert figure.value % unit == 0
            assert figure.value in {
                rounded(exact, unit, ROUND_FLOOR),
                rounded(exact, unit, ROUND_CEILING),
            }

    # 2: rows add up, children add up to their parent, the top level to the grand total.
    rows = {row.path: row for row in table.rows}
    for row in [*table.rows, table.total]:
        assert row.total.value == sum(figure.value for figure in row.shares)
    for path, node in expected:
        if node.children:
            children = [rows[(*path, child.key)] for child in node.children]
            assert_sums_of(rows[path], children)
    assert_sums_of(table.total, [rows[(node.key,)] for node in nodes])


def assert_sums_of(parent: Row, children: list[Row]) -> None:
    assert parent.total.value == sum(child.total.value for child in children)
    for column, figure in enumerate(parent.shares):
        assert figure.value == sum(child.shares[column].value for child in children)


def deviations(table: Table) -> int:
    return sum(figure.adjusted for row in [*table.rows, table.total] for figure in figures_of(row))


def rounding_error(table: Table) -> Decimal:
    return sum(
        abs(figure.value - figure.exact)
        for row in [*table.rows, table.total]
        for figure in figures_of(row)
    )


def fewest_deviations_by_network_simplex(nodes, shares, unit: Decimal) -> int:
    """The fewest deviations from half-up, as a min-cost flow with lower bounds, by networkx.

    Every number x in [floor, ceil] is floor + y with y in [0, ceil - floor]; choosing the side
    that is not half-up costs 1, i.e. y costs +1 per unit if half-up is the floor and -1 (plus a
    constant 1) if it is the ceiling.
    """
    graph = nx.DiGraph()
    demands: dict = {}
    constant = 0

    def number(tail, head, exact: Decimal) -> None:
        nonlocal constant
        floor = rounded(exact, unit, ROUND_FLOOR) / unit
        ceiling = rounded(exact, unit, ROUND_CEILING) / unit
        half_up = rounded(exact, unit, ROUND_HALF_UP) / unit
        demands[tail] = demands.get(tail, 0) + int(floor)
        demands[head] = demands.get(head, 0) - int(floor)
        if ceiling > floor:
            weight = 1 if half_up == floor else -1
            constant += weight == -1
            graph.add_edge(tail, head, capacity=1, weight=weight)

    def visit(node: Node, path, parent_row, parent_columns):
        row = ("row", path)
        total = exact_total(node)
        number(parent_row, row, total)
        if node.children:
            columns = [("column", path, column) for column in range(len(shares))]
            for child in node.children:
                visit(child, (*path, child.key), row, columns)
        else:
            columns = [row] * len(shares)
        for tail, head, exact in zip(
            columns, parent_columns, exact_cells(total, shares), strict=True
        ):
            number(tail, head, exact)

    top = [("column", (), column) for column in range(len(shares))]
    for node in nodes:
        visit(node, (node.key,), ("row", ()), top)
    grand = sum((exact_total(node) for node in nodes), Decimal(0))
    number("hub", ("row", ()), grand)
    for tail, exact in zip(top, exact_cells(grand, shares), strict=True):
        number(tail, "hub", exact)
    for node, demand in demands.items():
        graph.add_node(node, demand=demand)
    cost, _ = nx.network_simplex(graph)
    return cost + constant


def fewest_deviations_by_brute_force(nodes, shares, unit: Decimal) -> tuple[int, Decimal]:
    """The fewest deviations, and the least rounding error among those, over every valid table.

    A table that adds up is fixed by its leaf cells, so try every rounding of the leaf cells,
    derive every other number by the sums, and keep the tables whose numbers are all roundings.
    """
    grand = sum((exact_total(node) for node in nodes), Decimal(0))
    rows = [(path, exact_total(node), node) for path, node in pre_order(nodes)]
    exact = {path: [total, *exact_cells(total, shares)] for path, total, _ in rows}
    exact[()] = [grand, *exact_cells(grand, shares)]
    leaves = [path for path, _, node in rows if not node.children]
    parents = [  # inner nodes bottom-up, then the grand total, with the rows they sum
        *(
            (path, [(*path, child.key) for child in node.children])
            for path, _, node in reversed(rows)
            if node.children
        ),
        ((), [(node.key,) for node in nodes]),
    ]
    choices = [
        sorted({rounded(cell, unit, ROUND_FLOOR), rounded(cell, unit, ROUND_CEILING)})
        for path in leaves
        for cell in exact[path][1:]
    ]
    best: tuple[int, Decimal] | None = None
    width = len(shares)
    for leaf_cells in itertools.product(*choices):
        cells = {path: leaf_cells[i * width : (i + 1) * width] for i, path in enumerate(leaves)}
        for path, children in parents:
            cells[path] = tuple(
                sum((cells[child][column] for child in children), Decimal(0))
                for column in range(width)
            )
        numbers = [
            (x, value)
            for path, row in cells.items()
            for x, value in zip(exact[path], [sum(row, Decimal(0)), *row], strict=True)
        ]
        if all(value - x < unit and x - value < unit for x, value in numbers):
            count = sum(value != rounded(x, unit, ROUND_HALF_UP) for x, value in numbers)
            error = sum(abs(value - x) for x, value in numbers)
            best = min(best or (count, error), (count, error))
    assert best is not None, "no valid table: the network model would be wrong"
    return best


# Random inputs ---------------------------------------------------------------------------------


@st.composite
def keys(draw, min_size=2, max_size=30):
    """Percent shares with two decimals, each at least 0.01, summing to exactly 100.00."""
    size = draw(st.integers(min_size, max_size))
    cuts = draw(st.lists(st.integers(1, 9_999), min_size=size - 1, max_size=size - 1, unique=True))
    bounds = [0, *sorted(cuts), 10_000]
    return [Decimal(high - low).scaleb(-2) for low, high in itertools.pairwise(bounds)]


@st.composite
def trees(draw, max_associations=50, max_lines=6, max_items=3, max_amount=10_000_000):
    """Associations of lines, some lines with items; amounts in whole euros or in cents."""
    places = draw(st.sampled_from([0, 2]))
    amounts = st.integers(0, max_amount * 10**places).map(lambda n: Decimal(n).scaleb(-places))
    associations = []
    for a in range(draw(st.integers(1, max_associations))):
        lines = []
        for line in range(draw(st.integers(1, max_lines))):
            items = draw(st.integers(0, max_items))
            children = tuple(Node(f"item {i}", draw(amounts)) for i in range(items))
            lines.append(Node(f"line {line}", draw(amounts), children))
        associations.append(Node(f"association {a}", children=tuple(lines)))
    return tuple(associations)


units = st.sampled_from([EURO, CENT])


@settings(max_examples=60, deadline=None)
@given(nodes=trees(), shares=keys(), unit=units)
def test_every_number_is_a_rounding_of_its_exact_value_and_the_table_adds_up(nodes, shares, unit):
    table = apportion(nodes, shares, unit)

    assert_guarantees(table, nodes, shares, unit)


@settings(max_examples=150, deadline=None)
@given(
    nodes=trees(max_associations=8, max_lines=4, max_items=2),
    shares=keys(max_size=10),
    unit=units,
)
def test_it_deviates_from_half_up_as_little_as_a_network_simplex_allows(nodes, shares, unit):
    table = apportion(nodes, shares, unit)

    assert deviations(table) == fewest_deviations_by_network_simplex(nodes, shares, unit)
    assert len(table.adjustments()) == deviations(table)


@settings(max_examples=200, deadline=None)
@given(
    nodes=trees(max_associations=2, max_lines=2, max_items=0, max_amount=2_000),
    shares=keys(max_size=3),
    unit=units,
)
def test_it_deviates_from_half_up_as_little_as_any_valid_table(nodes, shares, unit):
    table = apportion(nodes, shares, unit)

    assert_guarantees(table, nodes, shares, unit)
    fewest, least_error = fewest_deviations_by_brute_force(nodes, shares, unit)
    assert deviations(table) == fewest
    # The tie-break works in steps of 1/10,000 of a unit.
    assert rounding_error(table) <= least_error + fewest * unit / 10_000


@settings(max_examples=20, deadline=None)
@given(nodes=trees(max_associations=10), shares=keys(), unit=units)
def test_the_same_input_gives_the_same_table(nodes, shares, unit):
    assert apportion(nodes, shares, unit) == apportion(list(nodes), tuple(shares), unit)


def test_the_table_does_not_depend_on_the_hash_seed():
    program = """
import random
from decimal import Decimal
from funding.apportionment import Node, apportion
rng = random.Random(7)
nodes = [
    Node(f"association {a}", children=tuple(
        Node(f"line {line}", Decimal(rng.randint(0, 10**7)).scaleb(-2)) for line in range(5)
    ))
    for a in range(40)
]
shares = [Decimal(s) for s in ("12.34", "23.45", "34.56", "29.65")]
print(apportion(nodes, shares, Decimal("1")))
"""
    outputs = {
        subprocess.run(
            [sys.executable, "-c", program],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    assert "Table(rows=" in outputs.pop()


# Edge cases ------------------------------------------------------------------------------------


def association(key, *amounts: str) -> Node:
    return Node(key, children=tuple(Node(f"line {i}", Decimal(a)) for i, a in enumerate(amounts)))


def values(row: Row) -> list[Decimal]:
    return [figure.value for figure in figures_of(row)]


def test_a_single_municipality_at_100_percent_pays_every_total():
    nodes = (association("a", "10.40", "20.45"), association("b", "0.50"))

    table = apportion(nodes, [Decimal("100")], EURO)

    assert_guarantees(table, nodes, [Decimal("100")], EURO)
    for row in [*table.rows, table.total]:
        assert row.total.value == row.shares[0].value
    assert values(table.total) == [Decimal("31"), Decimal("31")]


def test_zero_amounts_give_a_table_of_zeros():
    nodes = (association("a", "0", "0.00"), association("b", "0"))
    shares = [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]

    table = apportion(nodes, shares, CENT)

    assert_guarantees(table, nodes, shares, CENT)
    assert all(value == 0 for row in [*table.rows, table.total] for value in values(row))
    assert table.adjustments() == []


def test_a_share_of_one_hundredth_of_a_percent_still_adds_up():
    nodes = (association("a", "1234.56", "99.99", "0.01"), association("b", "5000"))
    shares = [Decimal("99.99"), Decimal("0.01")]

    for unit in (EURO, CENT):
        table = apportion(nodes, shares, unit)

        assert_guarantees(table, nodes, shares, unit)
    assert table.total.shares[1].exact == Decimal("0.633456")


def test_cents_shown_in_whole_euros_are_rounded_and_still_add_up():
    nodes = (association("po-moc", "5047.50", "6721.50"),)
    shares = [Decimal("50"), Decimal("50")]

    table = apportion(nodes, shares, EURO)

    assert_guarantees(table, nodes, shares, EURO)
    line_totals = [row.total for row in table.rows[1:]]
    assert [total.half_up for total in line_totals] == [Decimal("5048"), Decimal("6722")]
    # The exact association total 11769 leaves room for one of the two half-up totals only.
    assert table.rows[0].total.value == Decimal("11769")
    assert sum(total.adjusted for total in line_totals) == 1


def test_an_empty_tree_gives_no_rows_and_a_zero_total_row():
    table = apportion((), [Decimal("60"), Decimal("40")], EURO)

    assert table.rows == ()
    assert table.total.path == ()
    assert values(table.total) == [0, 0, 0]
    assert table.adjustments() == []


def test_an_association_without_lines_is_a_leaf():
    nodes = (Node("a", Decimal("100.5")), association("b", "0.5", "0.5"))
    shares = [Decimal("50"), Decimal("50")]

    table = apportion(nodes, shares, EURO)

    assert_guarantees(table, nodes, shares, EURO)


def test_rows_are_in_pre_order_with_items_under_lines():
    line = Node("salaries", children=(Node("clerk", Decimal("10")), Node("head", Decimal("20"))))
    nodes = (Node("a", children=(line, Node("material", Decimal("5")))), association("b", "1"))

    table = apportion(nodes, [Decimal("50"), Decimal("50")], CENT)

    assert [row.path for row in table.rows] == [
        ("a",),
        ("a", "salaries"),
        ("a", "salaries", "clerk"),
        ("a", "salaries", "head"),
        ("a", "material"),
        ("b",),
        ("b", "line 0"),
    ]
    assert [row.depth for row in table.rows] == [1, 2, 3, 3, 2, 1, 2]
    assert table.rows[1].total.value == Decimal("30.00")


def test_adjustments_list_row_by_row_total_first_and_the_grand_total_last():
    def figure(value: str, half_up: str) -> Figure:
        return Figure(
            exact=Decimal(value) - Decimal("0.1"), value=Decimal(value), half_up=Decimal(half_up)
        )

    same, moved = figure("1", "1"), figure("2", "1")
    table = Table(
        rows=(
            Row(path=("a",), total=moved, shares=(same, moved)),
            Row(path=("a", "x"), total=same, shares=(moved, same)),
        ),
        total=Row(path=(), total=moved, shares=(moved, same)),
    )

    assert [(item.path, item.column) for item in table.adjustments()] == [
        (("a",), None),
        (("a",), 1),
        (("a", "x"), 0),
        ((), None),
        ((), 0),
    ]
    assert table.adjustments()[0] == Adjustment(
        path=("a",), column=None, exact=Decimal("1.9"), value=Decimal("2"), half_up=Decimal("1")
    )


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ([], "no shares"),
        ([Decimal("50"), Decimal("49.99")], "sum to 99.99"),
        ([Decimal("50"), Decimal("50.01")], "sum to 100.01"),
        ([Decimal("100"), Decimal("0")], "not above 0"),
        ([Decimal("150"), Decimal("-50")], "at most 100"),
        ([Decimal("NaN"), Decimal("100")], "not above 0"),
    ],
)
def test_it_rejects_a_key_that_is_not_percent_shares_summing_to_100(shares, message):
    with pytest.raises(ValueError, match=message):
        apportion((association("a", "1"),), shares, EURO)


@pytest.mark.parametrize("unit", ["0", "-1", "10", "2", "0.5", "0.25", "NaN", "Infinity"])
def test_it_rejects_a_unit_that_is_not_a_power_of_ten_at_most_1(unit):
    with pytest.raises(ValueError, match="unit"):
        apportion((association("a", "1"),), [Decimal("100")], Decimal(unit))


@pytest.mark.parametrize("unit", ["1", "1.00", "0.1", "0.01", "0.001", "1E-4"])
def test_it_accepts_any_power_of_ten_at_most_1_as_unit(unit):
    nodes = (association("a", "10.12345", "3.3"),)
    shares = [Decimal("33.33"), Decimal("66.67")]

    assert_guarantees(apportion(nodes, shares, Decimal(unit)), nodes, shares, Decimal(unit))


def test_it_rejects_a_negative_amount():
    nodes = (association("a", "10", "-0.01"),)

    with pytest.raises(ValueError, match=r"amount -0.01 at \('a', 'line 1'\)"):
        apportion(nodes, [Decimal("100")], EURO)


@pytest.mark.parametrize(
    "nodes",
    [
        (association("a", "1"), association("a", "2")),
        (Node("a", children=(Node("x", Decimal("1")), Node("x", Decimal("2")))),),
    ],
)
def test_it_rejects_duplicate_sibling_keys(nodes):
    with pytest.raises(ValueError, match="appears twice"):
        apportion(nodes, [Decimal("100")], EURO)


def test_equal_keys_under_different_parents_are_fine():
    nodes = (association("a", "1", "2"), association("b", "1", "2"))

    assert len(apportion(nodes, [Decimal("100")], EURO).rows) == 6


# The seed case: the Kras strategy 2025–2029 and its published 2025 table -----------------------


def seed_case() -> tuple[tuple[Node, ...], list[Decimal], list[str]]:
    strategy = json.loads(SEED.read_text(encoding="utf-8"))
    shares = [Decimal(municipality["share_percent"]) for municipality in strategy["municipalities"]]
    nodes = tuple(
        Node(
            association["slug"],
            children=tuple(
                Node(line["category"], Decimal(line["amount"])) for line in association["lines"]
            ),
        )
        for association in strategy["associations"]
    )
    short_names = [association["short_name"] for association in strategy["associations"]]
    return nodes, shares, short_names


def published_table() -> dict[tuple, list[Decimal]]:
    """Published rows by engine path: the CSV's associations come in the JSON's order."""
    nodes, _, short_names = seed_case()
    with PUBLISHED.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[-1]["association"] == "SKUPAJ OBČINE"
    names = list(dict.fromkeys(row["association"] for row in rows[:-1]))
    assert names == short_names
    slugs = dict(zip(names, (node.key for node in nodes), strict=True))
    table = {}
    for row in rows:
        if row is rows[-1]:
            path = ()
        else:
            slug = slugs[row["association"]]
            path = (slug, row["line"]) if row["line"] else (slug,)
        table[path] = [Decimal(row[column]) for column in ["total_eur", *PUBLISHED_COLUMNS]]
    return table


def breaks(table: dict[tuple, list[Decimal]]) -> list[tuple]:
    """Every sum that does not hold: (path, None) for a row, (path, column) for a column."""
    found = [(path, None) for path, row in table.items() if row[0] != sum(row[1:])]
    for path, row in table.items():
        children = [other for key, other in table.items() if key[:-1] == path and key != ()]
        for column, value in enumerate(row):
            if children and value != sum(child[column] for child in children):
                found.append((path, column))
    return found


def test_the_seed_case_adds_up_and_keeps_every_published_total():
    nodes, shares, _ = seed_case()
    published = published_table()

    table = apportion(nodes, shares, EURO)

    assert_guarantees(table, nodes, shares, EURO)
    shown = {row.path: values(row) for row in [*table.rows, table.total]}
    assert breaks(shown) == []
    assert shown.keys() == published.keys()
    for path, row in shown.items():
        assert row[0] == published[path][0], path
        assert all(
            abs(mine - theirs) <= 1 for mine, theirs in zip(row, published[path], strict=True)
        ), path
    assert shown[()][0] == Decimal("194630")


def test_the_published_table_breaks_six_rows_and_six_columns():
    """The document rounded cell by cell; column 0 is the total, 1 to 4 the municipalities."""
    assert breaks(published_table()) == [
        (("po-moc", "Materialni stroški programa"), None),
        (("vezi", "Stroški zaposlenih"), None),
        (("vezi", "Materialni stroški programa"), None),
        (("rk-sezana", "Stroški zaposlenih"), None),
        (("rk-sezana", "Materialni stroški programa"), None),
        (("mdpm-sezana", "Stroški zaposlenih"), None),
        (("po-moc",), 3),
        (("rk-sezana",), 3),
        (("rk-sezana",), 4),
        (("mdpm-sezana",), 4),
        ((), 2),
        ((), 4),
    ]


def test_the_seed_case_moves_nine_numbers_away_from_half_up():
    nodes, shares, _ = seed_case()

    adjustments = apportion(nodes, shares, EURO).adjustments()

    for item in adjustments:
        print(item.path, item.column, item.exact, item.half_up, "->", item.value)
    assert len(adjustments) == fewest_deviations_by_network_simplex(nodes, shares, EURO)
    # Column 0 is Sežana, 1 Divača, 2 Hrpelje-Kozina, 3 Komen; no total is moved.
    assert [(item.path, item.column, item.exact, item.value) for item in adjustments] == [
        (("po-moc", "Materialni stroški programa"), 2, Decimal("1179.5355"), 1179),
        (("vezi", "Stroški zaposlenih"), 0, Decimal("23850.3504"), 23851),
        (("vezi", "Materialni stroški programa"), 0, Decimal("2319.6304"), 2319),
        (("rk-sezana", "Stroški zaposlenih"), 2, Decimal("9027.369"), 9028),
        (("rk-sezana", "Materialni stroški programa"), 3, Decimal("1635.2568"), 1636),
        (("mdpm-sezana",), 1, Decimal("11316.489"), 11317),
        (("mdpm-sezana",), 3, Decimal("10603.5848"), 10603),
        (("mdpm-sezana", "Stroški zaposlenih"), 0, Decimal("23952.4182"), 23953),
        (("mdpm-sezana", "Materialni stroški programa"), 1, Decimal("3604.3575"), 3605),
    ]
