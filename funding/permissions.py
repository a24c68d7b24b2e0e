"""Who may read and who may edit a strategy: the rules every view, export and import applies.

- A superuser reads and edits everything.
- Reading a strategy takes a role that may view strategies (officer, council member, clerk,
  coordinator) and a membership in one of the strategy's municipalities.
- Editing a strategy (its key, associations, lines, items, in-kind support) takes the strategy
  coordinator's role and a membership in the strategy's lead municipality.
"""

from django.db.models import QuerySet

from funding.models import FundingStrategy


def readable_strategies(user) -> QuerySet[FundingStrategy]:
    """The strategies whose data and documents the user may read."""
    if not user.is_active:
        return FundingStrategy.objects.none()
    if user.is_superuser:
        return FundingStrategy.objects.all()
    if not user.has_perm("funding.view_fundingstrategy"):
        return FundingStrategy.objects.none()
    return FundingStrategy.objects.filter(shares__municipality__memberships__user=user).distinct()


def editable_strategies(user) -> QuerySet[FundingStrategy]:
    """The strategies the user may change: coordinators of the lead municipality."""
    if not user.is_active:
        return FundingStrategy.objects.none()
    if user.is_superuser:
        return FundingStrategy.objects.all()
    if not user.has_perm("funding.change_budgetline"):
        return FundingStrategy.objects.none()
    return FundingStrategy.objects.filter(lead_municipality__memberships__user=user).distinct()


def can_read_strategy(user, strategy: FundingStrategy) -> bool:
    return readable_strategies(user).filter(pk=strategy.pk).exists()


def can_edit_strategy(user, strategy: FundingStrategy) -> bool:
    return editable_strategies(user).filter(pk=strategy.pk).exists()
