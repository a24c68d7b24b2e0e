"""The fast number formatter writes exactly what Django's localisation writes."""

from decimal import Decimal

from django.utils import translation
from django.utils.formats import number_format
from hypothesis import given
from hypothesis import strategies as st

from reports.formatting import NumberFormat

amounts = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(Decimal),
    st.integers(min_value=-(10**14), max_value=10**14).map(lambda n: Decimal(n).scaleb(-2)),
)


@given(value=amounts)
def test_it_formats_like_django_in_slovenian_and_english(value):
    for language in ("sl", "en"):
        with translation.override(language):
            assert NumberFormat()(value) == number_format(value, force_grouping=True)


def test_it_writes_slovenian_thousands_and_decimal_comma():
    with translation.override("sl"):
        assert NumberFormat()(Decimal("194630")) == "194.630"
        assert NumberFormat()(Decimal("5047.50")) == "5.047,50"
