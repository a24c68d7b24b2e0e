"""Reading amounts as officers type them: "1.234,56", "1234,56", "1234.56", "1,234.56".

One rule for every input (admin forms, CSV and XLSX imports): a number with thousands
grouped by dots and a decimal comma, or the English way; a single separator followed by one,
two or more than three digits is the decimal point; followed by exactly three digits it is
ambiguous (1,005 may be a thousand and five or one and a half cent) and refused.
"""

import re
from decimal import Decimal


class AmountSyntaxError(ValueError):
    """Text that is not an amount; ``ambiguous`` for a single separator and three digits."""

    def __init__(self, text: str, *, ambiguous: bool = False):
        super().__init__(text)
        self.ambiguous = ambiguous


# Thousands grouped with dots and a decimal comma (1.234,56), or the English way (1,234.56).
_GROUPED_COMMA_DECIMAL = re.compile(r"\d{1,3}(\.\d{3})+,\d+")
_GROUPED_DOT_DECIMAL = re.compile(r"\d{1,3}(,\d{3})+\.\d+")
# Only thousands separators, used more than once (1.234.567): a whole number.
_GROUPED_WHOLE = re.compile(r"\d{1,3}([.,])\d{3}(\1\d{3})+")
_ONE_SEPARATOR = re.compile(r"(\d+)[.,](\d+)")


def parse_amount_text(text: str) -> Decimal:
    """The Decimal a typed amount means; AmountSyntaxError when it means none or two."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    sign = ""
    if text[:1] in ("-", "\u2212"):
        sign, text = "-", text[1:]
    if re.fullmatch(r"\d+", text):
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
