"""Argument lookups shared by the management commands."""

from argparse import ArgumentTypeError

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from funding.amounts import NumberSyntaxError, parse_whole_number
from funding.models import FundingStrategy


def whole_number(text: str) -> int:
    """An argument's type: a whole number in the digits 0–9 (``type=int`` takes "٢٠٢٥")."""
    try:
        return parse_whole_number(text)
    except NumberSyntaxError:
        raise ArgumentTypeError(
            _("“%(value)s” is not a whole number.") % {"value": text[:40]}
        ) from None


def strategy_or_command_error(slug: str) -> FundingStrategy:
    """The strategy with this slug, or a CommandError that lists the known ones."""
    strategy = FundingStrategy.objects.filter(slug=slug).first()
    if strategy is None:
        known = ", ".join(FundingStrategy.objects.values_list("slug", flat=True)) or "—"
        raise CommandError(
            _("There is no strategy “%(slug)s”. Known strategies: %(known)s")
            % {"slug": slug, "known": known}
        )
    return strategy


def strategy_to_split_or_command_error(slug: str) -> FundingStrategy:
    """The strategy, if its key can split a document (FundingStrategy.key_problem)."""
    strategy = strategy_or_command_error(slug)
    problem = strategy.key_problem()
    if problem:
        raise CommandError(problem)
    return strategy
