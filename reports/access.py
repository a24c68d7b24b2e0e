"""Who may read a strategy's documents, enforced by every report view."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from funding.models import FundingStrategy


def strategy_for_reader(user, slug: str) -> FundingStrategy:
    """The strategy if the user may read its documents; 404 if unknown, 403 if not allowed.

    Readers are superusers and users whose role may view strategies and who belong to one of
    the strategy's municipalities: the joint table is part of every participating council's
    documents, so each participant sees all of it.
    """
    strategy = FundingStrategy.objects.filter(slug=slug).first()
    if strategy is None:
        raise Http404(_("There is no strategy “%(slug)s”.") % {"slug": slug})
    if user.is_superuser:
        return strategy
    if not user.has_perm("funding.view_fundingstrategy"):
        raise PermissionDenied
    if not user.memberships.filter(municipality__strategy_shares__strategy=strategy).exists():
        raise PermissionDenied
    return strategy
