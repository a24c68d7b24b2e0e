"""Inline SVG bar charts for report documents, for the HTML pages and the WeasyPrint PDFs alike.

Two simple chart types do not earn a charting library. pygal's output links its tooltip script
from pygal's own web host (``pygal-tooltips.min.js``, its default ``js`` option) and takes its
look from embedded stylesheets (default ``css``: style.css, graph.css): a browser would fetch
a third-party script, and the PDF's look would rest on how far WeasyPrint's SVG renderer
follows CSS inside SVG. matplotlib would add a heavy dependency (NumPy among others) to draw
a few rectangles. So the charts are written here by hand with a small set of presentation
attributes WeasyPrint 70 draws (``fill``, ``stroke``, ``font-size``, ``font-family``,
``text-anchor``) and no CSS or script at all.

Guarantees:

- every label, unit and title is XML-escaped: names come from users;
- numbers are formatted by Django's localisation in the active language (``sl``: 18.500,00),
  from the Decimal; floats are used only for geometry, after the text is written;
- the chart is sized from its data: long labels wrap by character count onto at most three
  lines, ending in an ellipsis beyond; ``width="100%"`` and a ``viewBox`` let it scale to
  its container;
- colours are greys that survive black-and-white printing;
- no data gives an empty string, so a template can write ``{% if chart %}``.

The charts carry an accessible name (``<title>``) and a ``<desc>`` listing the figures, since
``role="img"`` hides the drawn text from screen readers. Their caption belongs to the
surrounding document (e.g. a ``<figcaption>``); the title is not drawn.
"""

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext

FONT_FAMILY = "DejaVu Sans, sans-serif"
FONT_SIZE = 12
# Text widths are estimated from characters, generously for DejaVu Sans (a wide face) so that
# no text reaches into a bar: its capitals are about 0.72 em wide, its digits 0.64 em and
# its lower-case letters 0.55 em on average.
CAPITAL_WIDTH = 0.72 * FONT_SIZE
DIGIT_WIDTH = 0.64 * FONT_SIZE
LETTER_WIDTH = 0.6 * FONT_SIZE
LINE_HEIGHT = 15
LABEL_WRAP = 30  # characters per label line
LABEL_LINES = 3

WIDTH = 640  # viewBox units; at 100 % of a 17 cm column a unit is about a CSS pixel
PADDING = 6
GAP = 10  # between label column, bar and value
BAR_HEIGHT = 18
PAIR_BAR_HEIGHT = 14
PAIR_BAR_GAP = 3
ROW_GAP = 10
PAIR_ROW_GAP = 14  # a little more, so each indicator's two bars read as one group

TEXT_FILL = "#000000"
ACHIEVED_FILL = "#404040"
PLANNED_FILL = "#d9d9d9"
PLANNED_STROKE = "#404040"
MISSING = "—"


@dataclass(frozen=True)
class Bar:
    """One bar of a horizontal bar chart: a label and an amount in the chart's unit.

    ``None`` is a missing figure (e.g. a year without budget lines): no bar, and "—" where
    the amount would be, so that it does not read as zero.
    """

    label: str
    value: Decimal | None


@dataclass(frozen=True)
class PairedBar:
    """One indicator: planned and achieved value in its own unit ("" for a plain count)."""

    label: str
    planned: Decimal | None
    achieved: Decimal
    unit: str = ""


def horizontal_bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    unit_label: str,
    scale_to: Decimal | None = None,
    places: int = 2,
) -> SafeString:
    """A bar per row in the order given (callers pass the largest first); the largest fills.

    Amounts are rounded half-up to ``places`` decimals (cents unless a table beside the chart
    prints whole euros) and printed at the bar's end, e.g. "18.500,00 EUR". ``scale_to``
    fills the width instead of the largest bar, so that charts printed one under another
    share a scale and their bars compare.
    """
    if not bars:
        return SafeString("")
    texts = [
        _with_unit(_amount(bar.value, places), unit_label) if bar.value is not None else MISSING
        for bar in bars
    ]
    labels = [_wrap(bar.label) for bar in bars]
    layout = _Columns(labels, texts)
    values = [bar.value for bar in bars if bar.value is not None]
    scale = _Scale([*values, scale_to] if scale_to is not None else values)

    parts = []
    y = PADDING
    for bar, lines, text in zip(bars, labels, texts, strict=True):
        row_height = max(BAR_HEIGHT, len(lines) * LINE_HEIGHT)
        bar_y = y + (row_height - BAR_HEIGHT) / 2
        width = scale.width(bar.value, layout.bar_width)
        parts.append(
            "<g>"
            + _label(lines, y, row_height)
            + _rect(layout.bar_x, bar_y, width, BAR_HEIGHT, fill=ACHIEVED_FILL)
            + _text(layout.bar_x + width + GAP / 2, bar_y + BAR_HEIGHT / 2, text)
            + "</g>"
        )
        y += row_height + ROW_GAP
    description = [f"{bar.label}: {text}" for bar, text in zip(bars, texts, strict=True)]
    return _svg(title, description, y - ROW_GAP + PADDING, parts)


def planned_vs_achieved_chart(indicators: Sequence[PairedBar], *, title: str) -> SafeString:
    """Planned and achieved bars per indicator, each row scaled to its own larger value.

    Indicators have different units (a count, a percentage), so no scale is shared between
    rows; a row's longer bar fills the width. An indicator without a planned value shows only
    the achieved bar. Values keep their own decimals without trailing zeros: "25 %", "40,32 %".
    """
    if not indicators:
        return SafeString("")
    planned_name, achieved_name = gettext("planned"), gettext("achieved")
    rows = [_indicator_bars(indicator) for indicator in indicators]
    labels = [_wrap(indicator.label) for indicator in indicators]
    layout = _Columns(labels, [text for row in rows for _, _, text in row])

    legend_y = PADDING
    parts = [_legend(legend_y, planned_name, achieved_name)]
    y = legend_y + PAIR_BAR_HEIGHT + PAIR_ROW_GAP
    for lines, row in zip(labels, rows, strict=True):
        bars_height = len(row) * PAIR_BAR_HEIGHT + (len(row) - 1) * PAIR_BAR_GAP
        row_height = max(bars_height, len(lines) * LINE_HEIGHT)
        scale = _Scale([value for value, _, _ in row])
        group = ["<g>", _label(lines, y, row_height)]
        bar_y = y + (row_height - bars_height) / 2
        for value, planned, text in row:
            width = scale.width(value, layout.bar_width)
            fill = PLANNED_FILL if planned else ACHIEVED_FILL
            stroke = PLANNED_STROKE if planned else None
            group.append(_rect(layout.bar_x, bar_y, width, PAIR_BAR_HEIGHT, fill, stroke))
            group.append(_text(layout.bar_x + width + GAP / 2, bar_y + PAIR_BAR_HEIGHT / 2, text))
            bar_y += PAIR_BAR_HEIGHT + PAIR_BAR_GAP
        group.append("</g>")
        parts.append("".join(group))
        y += row_height + PAIR_ROW_GAP

    description = []
    for indicator, row in zip(indicators, rows, strict=True):
        names = [planned_name] * (len(row) - 1) + [achieved_name]
        figures = ", ".join(f"{name} {text}" for name, (_, _, text) in zip(names, row, strict=True))
        description.append(f"{indicator.label}: {figures}")
    return _svg(title, description, y - PAIR_ROW_GAP + PADDING, parts)


def _indicator_bars(indicator: PairedBar) -> list[tuple[Decimal, bool, str]]:
    """(value, is planned, text) for each of an indicator's bars, top to bottom."""
    values = [(indicator.achieved, False)]
    if indicator.planned is not None:
        values.insert(0, (indicator.planned, True))
    return [
        (value, is_planned, _with_unit(_measure(value), indicator.unit))
        for value, is_planned in values
    ]


class _Columns:
    """Label column, bar area and room for the longest value text, from the data's text."""

    def __init__(self, labels: list[list[str]], texts: list[str]):
        longest_line = max(_text_width(line) for lines in labels for line in lines)
        self.bar_x = PADDING + longest_line + GAP
        value_room = GAP / 2 + max(_text_width(text) for text in texts)
        self.bar_width = max(WIDTH - PADDING - value_room - self.bar_x, 0.0)


class _Scale:
    """Maps values to widths so the largest value fills; zero and negative values draw nothing."""

    def __init__(self, values: list[Decimal]):
        self.largest = max([*values, Decimal(0)])

    def width(self, value: Decimal | None, full: float) -> float:
        if self.largest == 0 or value is None or value <= 0:
            return 0.0
        # Geometry only: a bar's length in SVG units. Printed amounts come from the Decimal.
        return full * float(value / self.largest)


def _amount(value: Decimal, places: int = 2) -> str:
    """Money in the active language, rounded half-up (with cents by default): 18.500,00."""
    return number_format(
        value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP),
        decimal_pos=places,
        use_l10n=True,
        force_grouping=True,
    )


def _measure(value: Decimal) -> str:
    """An indicator value with its own decimals, trailing zeros dropped: 25, 40,32, 1.200."""
    # normalize() alone would turn 1200 into 1.2E+3.
    plain = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return number_format(plain, use_l10n=True, force_grouping=True)


def _with_unit(number: str, unit: str) -> str:
    # Slovenian writes a space before the unit, % included: 25 %, 18.500,00 EUR.
    return f"{number} {unit}" if unit else number


def _text_width(text: str) -> float:
    return sum(
        CAPITAL_WIDTH if char.isupper() else DIGIT_WIDTH if char.isdigit() else LETTER_WIDTH
        for char in text
    )


def _wrap(label: str) -> list[str]:
    return textwrap.wrap(label, LABEL_WRAP, max_lines=LABEL_LINES, placeholder=" …") or [""]


def _number(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _text(x: float, middle: float, content: str, anchor: str = "start") -> str:
    # WeasyPrint does not follow dominant-baseline; a third of the size below the middle
    # centres digits and lower-case letters on the line.
    return (
        f'<text x="{_number(x)}" y="{_number(middle + FONT_SIZE / 3)}" fill="{TEXT_FILL}" '
        f'font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}" text-anchor="{anchor}">'
        f"{escape(content)}</text>"
    )


def _label(lines: list[str], top: float, row_height: float) -> str:
    first = top + (row_height - len(lines) * LINE_HEIGHT) / 2 + LINE_HEIGHT / 2
    return "".join(
        _text(PADDING, first + index * LINE_HEIGHT, line) for index, line in enumerate(lines)
    )


def _rect(x: float, y: float, width: float, height: float, fill: str, stroke=None) -> str:
    outline = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
    return (
        f'<rect x="{_number(x)}" y="{_number(y)}" width="{_number(width)}" '
        f'height="{_number(height)}" fill="{fill}"{outline}/>'
    )


def _legend(y: float, planned_name: str, achieved_name: str) -> str:
    swatch = PAIR_BAR_HEIGHT
    x = PADDING
    parts = []
    for name, fill, stroke in (
        (planned_name, PLANNED_FILL, PLANNED_STROKE),
        (achieved_name, ACHIEVED_FILL, None),
    ):
        parts.append(_rect(x, y, swatch, swatch, fill, stroke))
        parts.append(_text(x + swatch + GAP / 2, y + swatch / 2, name))
        x += swatch + GAP / 2 + _text_width(name) + 2 * GAP
    return "".join(parts)


def _svg(title: str, description: list[str], height: float, parts: list[str]) -> SafeString:
    return SafeString(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {WIDTH} {_number(height)}">'
        f"<title>{escape(title)}</title>"
        f"<desc>{escape('; '.join(description))}</desc>" + "".join(parts) + "</svg>"
    )
