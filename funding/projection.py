"""The five-year projection: a strategy's later years derived from its base year.

A strategy such as Kras 2025–2029 publishes the lines of its first year; each later year's
lines follow from the year before by that year's indexation rates (``IndexationRate``, one
per year and category: material costs by the budget assumptions of the year, staff costs by
the pay-grade assumptions). Derived lines are ordinary budget lines, edited line by line
afterwards like any other.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from funding.models import BudgetLine, FundingStrategy
from funding.services import budget_lines_copy_indexed


@transaction.atomic
def projection_derive_year(*, strategy: FundingStrategy, year: int) -> list[BudgetLine]:
    """Derive a later year's lines from the previous year's, by that year's indexation rates.

    Every line of the previous year (with its items) is copied to ``year``, indexed by the
    rate of its category, half-up to the cent (``budget_lines_copy_indexed``). All or
    nothing: a year outside the later years of the strategy, a previous year without lines,
    a category without a rate for the year or a line that already exists in the year raises
    ValidationError naming the association, category and year, and nothing is written.
    """
    if year not in strategy.years[1:]:
        raise ValidationError(
            _(
                "The year %(year)s is not a later year of the strategy %(slug)s "
                "(%(first)s–%(last)s)."
            ),
            code="year_not_derived",
            params={
                "year": year,
                "slug": strategy.slug,
                "first": strategy.start_year + 1,
                "last": strategy.end_year,
            },
        )
    lines = (
        strategy.lines.filter(year=year - 1)
        .select_related("strategy", "association")
        .prefetch_related("items")
        .order_by("pk")
    )
    if not lines:
        raise ValidationError(
            _("The year %(previous)s has no budget lines to derive %(year)s from."),
            code="nothing_to_derive",
            params={"previous": year - 1, "year": year},
        )
    rates = dict(strategy.indexation_rates.filter(year=year).values_list("category", "percent"))
    return budget_lines_copy_indexed(lines=lines, percents=rates)


@transaction.atomic
def projection_derive(*, strategy: FundingStrategy) -> dict[int, list[BudgetLine]]:
    """Derive every later year that has no lines yet, in order, each from the year before.

    A year that already has lines is kept as it is (it was derived or typed, and may have
    been edited) and becomes the base of the next year. Returns the derived lines by year;
    an empty dict when every year has lines. All or nothing: the first year that cannot be
    derived raises ValidationError (see ``projection_derive_year``) and nothing is written.
    """
    present = set(strategy.lines.values_list("year", flat=True).distinct())
    derived = {}
    for year in strategy.years[1:]:
        if year not in present:
            derived[year] = projection_derive_year(strategy=strategy, year=year)
    return derived
