"""Who may read and who may edit a strategy: the rules every view, export and import applies.

- A superuser reads and edits everything.
- Reading a strategy takes a role that may view strategies (officer, council member, clerk,
  coordinator) and a membership in one of the strategy's municipalities.
- Editing a strategy (its key, associations, lines, items, in-kind support) takes the strategy
  coordinator's role and a membership in the strategy's lead municipality.
- A municipality's own budget items and their allocations are read and changed by those whose
  role allows it and who are members of that municipality (as ``MunicipalityScopedAdmin``).
- A municipality's register record (name, mayor, address, statute article) is read by every
  role, and changed only by a superuser or by those with the change permission who are members
  of that very municipality (``changeable_municipality_records``).
"""

from django.db.models import QuerySet

from funding.models import FundingStrategy, Municipality


def reads_strategies(user) -> bool:
    """Whether the user's role reads strategies at all, whichever they are."""
    return user.is_active and (user.is_superuser or user.has_perm("funding.view_fundingstrategy"))


def readable_strategies(user) -> QuerySet[FundingStrategy]:
    """The strategies whose data and documents the user may read."""
    if not reads_strategies(user):
        return FundingStrategy.objects.none()
    if user.is_superuser:
        return FundingStrategy.objects.all()
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


def member_municipalities(user) -> QuerySet[Municipality]:
    """The municipalities the user works for (all of them for a superuser)."""
    if not user.is_active:
        return Municipality.objects.none()
    if user.is_superuser:
        return Municipality.objects.all()
    return Municipality.objects.filter(memberships__user=user).distinct()


def _member_municipalities(user, permission: str) -> QuerySet[Municipality]:
    if not user.has_perm(permission):
        return Municipality.objects.none()
    return member_municipalities(user)


def readable_municipalities(user) -> QuerySet[Municipality]:
    """The municipalities whose budget items and allocations the user may read."""
    return _member_municipalities(user, "funding.view_allocation")


def editable_municipalities(user) -> QuerySet[Municipality]:
    """The municipalities whose allocations the user may change."""
    return _member_municipalities(user, "funding.change_allocation")


def changeable_municipality_records(user, action: str = "change") -> QuerySet[Municipality]:
    """The municipalities whose own record the user may change (or, with "delete", delete).

    A superuser may change any. Anyone else needs the model permission and a membership in
    that very municipality: the record is shared by every strategy the municipality is part
    of, and its mayor and statute article are printed in each council resolution (SKLEP), so
    the coordinator of one strategy must not rewrite a partner municipality's record.
    """
    if not user.is_active:
        return Municipality.objects.none()
    if user.is_superuser:
        return Municipality.objects.all()
    return _member_municipalities(user, f"funding.{action}_municipality")


def can_change_municipality_record(user, municipality: Municipality, action="change") -> bool:
    return changeable_municipality_records(user, action).filter(pk=municipality.pk).exists()
