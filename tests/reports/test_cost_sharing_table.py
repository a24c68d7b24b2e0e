"""The demo's 2025 table: it adds up everywhere and stays within 1 EUR of the published one."""

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from reports.selectors import cost_sharing_table

PUBLISHED = Path(__file__).parents[2] / "fixtures" / "reference"
PUBLISHED = PUBLISHED / "kras-2025-cost-sharing-as-published.csv"
COLUMNS = ["sezana_eur", "divaca_eur", "hrpelje_kozina_eur", "komen_eur"]

pytestmark = pytest.mark.django_db


def published():
    with PUBLISHED.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def values(cells):
    return [cell.figure.value for cell in cells]


def test_every_row_and_column_of_the_2025_table_adds_up(demo):
    table = cost_sharing_table(demo, 2025)
    assert [c.slug for c in table.columns] == ["sezana", "divaca", "hrpelje-kozina", "komen"]
    associations = [row for row in table.rows if row.is_association]
    assert len(associations) == 4 and len(table.rows) == 12
    for row in table.rows:
        assert sum(values(row.cells)) == row.total.value, row.label
    for association in associations:
        lines = [r for r in table.rows if r.association_slug == association.association_slug]
        lines = [r for r in lines if not r.is_association]
        assert sum(r.total.value for r in lines) == association.total.value
        for column in range(4):
            assert sum(r.cells[column].figure.value for r in lines) == (
                association.cells[column].figure.value
            )
    for column in range(4):
        assert sum(a.cells[column].figure.value for a in associations) == (
            table.total_cells[column].figure.value
        )
    assert table.total.value == Decimal("194630")
    assert sum(values(table.total_cells)) == table.total.value


def test_totals_match_the_published_table_and_cells_are_within_1_eur(demo):
    table = cost_sharing_table(demo, 2025)
    rows = [*table.rows]
    reference = published()
    assert len(reference) == len(rows) + 1
    for row, expected in zip(rows, reference, strict=False):
        assert (row.line or "") == expected["line"]
        assert row.total.value == Decimal(expected["total_eur"]), expected
        for cell, column in zip(row.cells, COLUMNS, strict=True):
            assert abs(cell.figure.value - Decimal(expected[column])) <= 1, (expected, column)
    grand = reference[-1]
    assert table.total.value == Decimal(grand["total_eur"])
    for cell, column in zip(table.total_cells, COLUMNS, strict=True):
        assert abs(cell.figure.value - Decimal(grand[column])) <= 1


def test_the_published_breaks_are_gone(demo):
    """The published table breaks 12 times; the application's table nowhere."""
    reference = published()
    breaks = 0
    for row in reference:
        cells = [int(row[c]) for c in COLUMNS]
        breaks += sum(cells) != int(row["total_eur"])
    assert breaks == 6  # the document's line rows that do not add up
    table = cost_sharing_table(demo, 2025)
    assert all(sum(values(row.cells)) == row.total.value for row in table.rows)


def test_in_kind_support_marks_sezanas_cells_of_three_associations(demo):
    table = cost_sharing_table(demo, 2025)
    marked = {
        (row.association_slug, table.columns[i].slug): cell.marker
        for row in table.rows
        for i, cell in enumerate(row.cells)
        if cell.marker
    }
    assert marked == {
        ("po-moc", "sezana"): "*",
        ("vezi", "sezana"): "**",
        ("mdpm-sezana", "sezana"): "***",
    }
    assert [f.marker for f in table.footnotes] == ["*", "**", "***"]


def test_an_annex_is_its_column_of_the_joint_table(demo):
    joint = cost_sharing_table(demo, 2025)
    annex = joint.for_municipality("komen")
    assert [c.slug for c in annex.columns] == ["komen"]
    assert [row.cells[0] for row in annex.rows] == [row.cells[3] for row in joint.rows]
    assert annex.total_cells[0] == joint.total_cells[3]
    assert annex.footnotes == ()  # the premises are Sežana's
    assert all(a.municipality_slug in ("komen", None) for a in annex.adjusted)


def test_every_adjusted_number_is_reported_with_its_exact_value(demo):
    table = cost_sharing_table(demo, 2025)
    for adjusted in table.adjusted:
        assert adjusted.value != adjusted.half_up
        assert abs(adjusted.value - adjusted.exact) < 1
    shown = {
        (row.association_slug, row.line, table.columns[i].slug): cell.figure
        for row in table.rows
        for i, cell in enumerate(row.cells)
    }
    reported = {(a.association_slug, a.line, a.municipality_slug) for a in table.adjusted}
    differing = {place for place, figure in shown.items() if figure.value != figure.half_up}
    assert differing <= reported


def test_a_year_without_lines_is_an_empty_table_that_adds_up(demo):
    table = cost_sharing_table(demo, 2027)
    assert table.total.value == 0
    assert all(row.total.value == 0 for row in table.rows)


def test_values_are_written_in_the_strategys_unit(demo):
    in_euros = cost_sharing_table(demo, 2025)
    assert str(in_euros.total.value) == "194630"
    assert str(in_euros.rows[2].cells[0].figure.value) == "3413"
    demo.rounding_unit = "0.01"
    demo.save()
    in_cents = cost_sharing_table(demo, 2025)
    assert str(in_cents.total.value) == "194630.00"
    assert str(in_cents.rows[2].cells[0].figure.value) == "3412.92"  # exact 3412.9238
    for row in in_cents.rows:
        assert sum(cell.figure.value for cell in row.cells) == row.total.value
        assert all(str(cell.figure.value).split(".")[1].__len__() == 2 for cell in row.cells)
