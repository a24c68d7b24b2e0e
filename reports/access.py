"""Who may read a strategy's documents, enforced by every report view."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from funding.models import FundingStrategy
from funding.permissions import can_read_strategy


def strategy_for_reader(user, slug: str) -> FundingStrategy:
    """The strategy if the user may read its documents; 404 if unknown, 403 if not allowed.

    The rule is ``funding.permissions``'s: the joint table is part of every participating
    council's documents, so each participant sees all of it.
    """
    strategy = FundingStrategy.objects.filter(slug=slug).first()
    if strategy is None:
        raise Http404(_("There is no strategy “%(slug)s”.") % {"slug": slug})
    if not can_read_strategy(user, strategy):
        raise PermissionDenied
    return strategy
