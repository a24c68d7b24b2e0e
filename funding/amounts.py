"""Reading numbers as officers type them: amounts "1.234,56", "1234,56", "1234.56", "1,234.56";
whole numbers (years, pay grades, counts) "2027".

One rule for every input (admin forms, CSV and XLSX imports, the strategy exchange format,
command arguments): a number with thousands grouped by dots and a decimal comma, or the
English way; a single separator followed by one, two or more than three digits is the decimal
point; followed by exactly three digits it is ambiguous (1,005 may be a thousand and five or
one and a half cent) and refused.

Digits are the ASCII digits 0–9 only. Python's ``int()`` and ``Decimal()`` read any Unicode
decimal digit (Arabic-Indic, fullwidth, Devanagari…), and so does ``\\d`` in a regular
expression; an officer who typed such digits would see a number stored that the documents
print differently from what was typed, so they are refused like any other text that is not a
number.
"""

import re
from decimal import Decimal


class NumberSyntaxError(ValueError):
    """Text that is not a number written in ASCII digits."""


class AmountSyntaxError(NumberSyntaxError):
    """Text that is not an amount; ``ambiguous`` for a single separator and three digits."""

    def __init__(self, text: str, *, ambiguous: bool = False):
        super().__init__(text)
        self.ambiguous = ambiguous


# re.ASCII: \d is 0–9, not every script's digits.
_WHOLE = re.compile(r"[-+]?\d+", re.ASCII)
_PLAIN_DECIMAL = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
# Thousands grouped with dots and a decimal comma (1.234,56), or the English way (1,234.56).
_GROUPED_COMMA_DECIMAL = re.compile(r"\d{1,3}(\.\d{3})+,\d+", re.ASCII)
_GROUPED_DOT_DECIMAL = re.compile(r"\d{1,3}(,\d{3})+\.\d+", re.ASCII)
# Only thousands separators, used more than once (1.234.567): a whole number.
_GROUPED_WHOLE = re.compile(r"\d{1,3}([.,])\d{3}(\1\d{3})+", re.ASCII)
_ONE_SEPARATOR = re.compile(r"(\d+)[.,](\d+)", re.ASCII)


def parse_amount_text(text: str) -> Decimal:
    """The Decimal a typed amount means; AmountSyntaxError when it means none or two."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    sign = ""
    if text[:1] in ("-", "\u2212"):
        sign, text = "-", text[1:]
    if re.fullmatch(r"\d+", text, re.ASCII):
        digits = text
    elif _GROUPED_COMMA_DECIMAL.fullmatch(text):
        digits = text.replace(".", "").replace(",", ".")
    elif _GROUPED_DOT_DECIMAL.fullmatch(text):
        digits = text.replace(",", "")
    elif _GROUPED_WHOLE.fullmatch(text):
        digits = re.sub(r"[.,]", "", text)
    elif match := _ONE_SEPARATOR.fullmatch(text):
        if len(match.group(2)) == 3:
            raise AmountSyntaxError(text, ambiguous=True)
        digits = f"{match.group(1)}.{match.group(2)}"
    else:
        raise AmountSyntaxError(text)
    return Decimal(sign + digits)


def parse_whole_number(text: str) -> int:
    """The whole number typed (surrounding spaces allowed); NumberSyntaxError otherwise."""
    text = text.strip()
    # Python refuses to read more than 4300 digits; no year or count has a tenth of them.
    if len(text) > 100 or not _WHOLE.fullmatch(text):
        raise NumberSyntaxError(text)
    return int(text)


def parse_plain_decimal(text: str) -> Decimal:
    """A decimal written as machines write it, "-5047.00"; NumberSyntaxError otherwise."""
    text = text.strip()
    if len(text) > 100 or not _PLAIN_DECIMAL.fullmatch(text):
        raise NumberSyntaxError(text)
    return Decimal(text)
