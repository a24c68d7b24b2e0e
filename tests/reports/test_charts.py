"""Inline SVG charts: proportional bars, escaped labels, Slovenian numbers, drawn by WeasyPrint."""

import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
import weasyprint
from django.utils import translation
from django.utils.safestring import SafeString
from pypdf import PdfReader

from reports.charts import (
    LABEL_WRAP,
    Bar,
    PairedBar,
    horizontal_bar_chart,
    planned_vs_achieved_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
VELENJE = [
    ("Pogovarjajmo se, prisluhnimo otroku in ne zatiskajmo si oči", "18500.00"),
    ("Varna hiša", "4500.00"),
    ("Preventivni program za mlade", "2187.36"),
    ("Svetovalnica za starše", "1594.89"),
    ("Počitniško varstvo otrok", "1500.00"),
    ("Medgeneracijsko sodelovanje", "1200.00"),
    ("Delavnice", "684.54"),
    ("Tabor", "217.00"),
]
INDICATORS = [
    PairedBar("Število vključenih otrok", Decimal("60"), Decimal("62"), ""),
    PairedBar("Delež staršev na delavnicah", Decimal("25.00"), Decimal("40.32"), "%"),
]


@pytest.fixture(autouse=True)
def slovenian():
    with translation.override("sl"):
        yield


def realisation_chart(rows=VELENJE):
    bars = [Bar(label, Decimal(value)) for label, value in rows]
    return horizontal_bar_chart(bars, title="Realizacija po programih", unit_label="EUR")


def rows_of(svg: str) -> list[ET.Element]:
    """One group per bar or indicator, in drawing order."""
    return ET.fromstring(svg).findall(f"{SVG}g")


def texts(element: ET.Element) -> list[str]:
    return [text.text for text in element.iter(f"{SVG}text")]


def widths(row: ET.Element) -> list[float]:
    return [float(rect.get("width")) for rect in row.iter(f"{SVG}rect")]


def test_it_returns_a_scalable_svg_image_with_a_title():
    chart = realisation_chart()

    assert isinstance(chart, SafeString)
    root = ET.fromstring(chart)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.find(f"{SVG}title").text == "Realizacija po programih"
    _, _, width, height = (float(n) for n in root.get("viewBox").split())
    assert width > 0 and height > 0
    assert "style" not in chart and "script" not in chart


def test_bar_widths_are_proportional_to_values_and_the_largest_fills_the_width():
    root = ET.fromstring(realisation_chart())
    bar_widths = [widths(row)[0] for row in rows_of(realisation_chart())]

    full = bar_widths[0]
    _, _, chart_width, _ = (float(n) for n in root.get("viewBox").split())
    assert full > chart_width / 3
    for (_, value), width in zip(VELENJE, bar_widths, strict=True):
        assert width == pytest.approx(full * float(Decimal(value) / Decimal("18500")), abs=0.1)


def test_bars_keep_the_order_given_and_the_largest_fills_wherever_it_stands():
    chart = realisation_chart([("Tabor", "217.00"), ("Varna hiša", "4500.00")])

    (small,), (large,) = (widths(row) for row in rows_of(chart))
    assert texts(rows_of(chart)[0])[0] == "Tabor"
    assert small == pytest.approx(large * 217 / 4500, abs=0.1)


def test_values_are_written_the_slovenian_way_with_their_unit():
    rows = rows_of(realisation_chart())

    assert texts(rows[0])[-1] == "18.500,00 EUR"
    assert texts(rows[2])[-1] == "2.187,36 EUR"
    assert texts(rows[-1])[-1] == "217,00 EUR"


def test_values_follow_the_active_language():
    with translation.override("en"):
        rows = rows_of(realisation_chart())

    assert texts(rows[0])[-1] == "18,500.00 EUR"


def test_amounts_are_rounded_half_up_to_cents():
    chart = realisation_chart([("Tabor", "0.125"), ("Delavnice", "2.5")])

    assert [texts(row)[-1] for row in rows_of(chart)] == ["0,13 EUR", "2,50 EUR"]


def test_a_label_with_markup_appears_only_as_text():
    label = "<script>alert(1)</script>"
    chart = realisation_chart([(label, "100.00")])
    title_chart = horizontal_bar_chart([Bar("x", Decimal(1))], title=label, unit_label="<b>")

    assert "<script>" not in chart and "<script>" not in title_chart
    assert texts(rows_of(chart)[0])[0] == label
    assert ET.fromstring(title_chart).find(f"{SVG}title").text == label
    assert texts(rows_of(title_chart)[0])[-1] == "1,00 <b>"
    for svg in (chart, title_chart):
        assert {element.tag for element in ET.fromstring(svg).iter()} <= {
            f"{SVG}{tag}" for tag in ("svg", "title", "desc", "g", "rect", "text")
        }


def test_long_labels_wrap_onto_at_most_three_lines_ending_in_an_ellipsis():
    long_label = " ".join(["Medgeneracijsko sodelovanje in druženje starejših z mladimi"] * 3)
    short_label = "Pogovarjajmo se, prisluhnimo otroku"
    chart = realisation_chart([(short_label, "1.00"), (long_label, "1.00")])
    two_lines, three_lines = (texts(row)[:-1] for row in rows_of(chart))

    assert two_lines == ["Pogovarjajmo se, prisluhnimo", "otroku"]
    assert len(three_lines) == 3
    assert all(len(line) <= LABEL_WRAP for line in three_lines)
    assert three_lines[-1].endswith("…")
    assert " ".join(three_lines).removesuffix(" …") in long_label


def test_a_taller_label_gets_a_taller_chart():
    short = ET.fromstring(realisation_chart([("Tabor", "1.00")]))
    tall = ET.fromstring(realisation_chart([("Tabor " * 20, "1.00")]))

    assert float(tall.get("viewBox").split()[3]) > float(short.get("viewBox").split()[3])


def test_empty_input_gives_an_empty_safe_string():
    for chart in (
        horizontal_bar_chart([], title="Prazno", unit_label="EUR"),
        planned_vs_achieved_chart([], title="Prazno"),
    ):
        assert chart == ""
        assert isinstance(chart, SafeString)


def test_zero_values_draw_empty_bars_and_still_print_the_value():
    chart = realisation_chart([("Tabor", "0.00"), ("Delavnice", "0")])
    paired = planned_vs_achieved_chart(
        [PairedBar("Udeleženci", Decimal(0), Decimal(0), "")], title="Kazalniki"
    )

    assert [widths(row) for row in rows_of(chart)] == [[0.0], [0.0]]
    assert [texts(row)[-1] for row in rows_of(chart)] == ["0,00 EUR", "0,00 EUR"]
    assert widths(rows_of(paired)[0]) == [0.0, 0.0]
    assert texts(rows_of(paired)[0])[-2:] == ["0", "0"]


def test_each_indicator_is_scaled_to_its_own_larger_value():
    count, share = rows_of(planned_vs_achieved_chart(INDICATORS, title="Kazalniki"))

    planned, achieved = widths(count)
    assert planned == pytest.approx(achieved * 60 / 62, abs=0.1)
    planned, achieved = widths(share)
    assert planned == pytest.approx(achieved * 25 / 40.32, abs=0.1)
    assert widths(count)[1] == widths(share)[1]  # both rows' larger bar fills the width


def test_indicator_values_carry_their_unit_in_slovenian_format():
    count, share = rows_of(planned_vs_achieved_chart(INDICATORS, title="Kazalniki"))

    assert texts(count)[-2:] == ["60", "62"]
    assert texts(share)[-2:] == ["25 %", "40,32 %"]


def test_planned_bars_are_outlined_light_grey_and_achieved_bars_dark():
    (row,) = rows_of(planned_vs_achieved_chart(INDICATORS[:1], title="Kazalniki"))
    planned, achieved = row.iter(f"{SVG}rect")

    assert planned.get("stroke") is not None
    assert achieved.get("stroke") is None
    assert planned.get("fill") != achieved.get("fill")


def test_an_indicator_without_a_planned_value_shows_only_the_achieved_bar():
    chart = planned_vs_achieved_chart(
        [PairedBar("Izvedene delavnice", None, Decimal("12"), "")], title="Kazalniki"
    )
    (row,) = rows_of(chart)

    (width,) = widths(row)
    assert width > 0
    assert texts(row) == ["Izvedene delavnice", "12"]


def test_the_legend_names_planned_and_achieved_through_gettext():
    with translation.override("en"):
        root = ET.fromstring(planned_vs_achieved_chart(INDICATORS, title="Kazalniki"))

    legend = [text.text for text in root.findall(f"{SVG}text")]
    assert legend == ["planned", "achieved"]


def test_weasyprint_draws_the_charts_text_into_the_pdf():
    html = (
        '<html><head><meta charset="utf-8"></head><body>'
        f"{realisation_chart()}"
        f"{planned_vs_achieved_chart(INDICATORS, title='Kazalniki')}"
        "</body></html>"
    )

    pdf = weasyprint.HTML(string=html).write_pdf()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)

    for expected in ("18.500,00 EUR", "217,00 EUR", "Pogovarjajmo se", "40,32 %"):
        assert expected in text
