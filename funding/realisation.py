"""The realisation of a municipal budget item, computed from its allocations and reallocations.

A report states figures typed by hand; the product computes them itself and lists every stated
figure that disagrees. Realisation = money spent from the item (its allocations) plus money
moved out of it for the item's purpose (reallocations, prerazporeditve). The money available
is the adopted amount plus reallocations in, minus reallocations out.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from funding.models import MunicipalBudgetItem, decimal_sum, money


@dataclass(frozen=True)
class RealisationRow:
    recipient: str
    amount: Decimal
    reallocated: bool = False


@dataclass(frozen=True)
class Realisation:
    item: MunicipalBudgetItem
    rows: tuple[RealisationRow, ...]
    spent: Decimal
    reallocated_out: Decimal
    reallocated_in: Decimal

    @property
    def total(self) -> Decimal:
        """Spent plus reallocated out: what the report's realisation table adds up to."""
        return self.spent + self.reallocated_out

    @property
    def available(self) -> Decimal | None:
        """Adopted amount plus reallocations in, minus out; None when nothing was adopted."""
        if self.item.adopted_amount is None:
            return None
        return self.item.adopted_amount + self.reallocated_in - self.reallocated_out

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every stated figure that disagrees with the computed ones, and overspending."""
        return _warnings(self)


def item_realisation(item: MunicipalBudgetItem) -> Realisation:
    """The item's realisation table with its sum.

    Related rows are read with ``.all()``, so a list that prefetches ``allocations``,
    ``reallocations_out__target`` and ``reallocations_in`` costs no query per item.
    """
    allocations = list(item.allocations.all())
    out = list(item.reallocations_out.all())
    rows = [RealisationRow(a.recipient, a.realised_amount) for a in allocations]
    rows += [RealisationRow(r.reason_label, r.amount, reallocated=True) for r in out]
    rows.sort(key=lambda row: -row.amount)  # as reports list them: largest first
    return Realisation(
        item=item,
        rows=tuple(rows),
        spent=decimal_sum(a.realised_amount for a in allocations),
        reallocated_out=decimal_sum(r.amount for r in out),
        reallocated_in=decimal_sum(r.amount for r in item.reallocations_in.all()),
    )


def _warnings(realisation: Realisation) -> tuple[str, ...]:
    warnings = []
    stated = getattr(realisation.item, "stated_realisation", None)
    if stated is not None:
        if stated.spent != realisation.spent:
            warnings.append(
                _(
                    "The report states spending of %(stated)s EUR; the allocations add up to "
                    "%(computed)s EUR."
                )
                % {"stated": money(stated.spent), "computed": money(realisation.spent)}
            )
        if stated.reallocated != realisation.reallocated_out:
            warnings.append(
                _(
                    "The report states reallocations of %(stated)s EUR; the recorded "
                    "reallocations are %(computed)s EUR."
                )
                % {
                    "stated": money(stated.reallocated),
                    "computed": money(realisation.reallocated_out),
                }
            )
        if stated.spent + stated.reallocated != stated.total:
            warnings.append(
                _(
                    "The report's own sum does not hold: %(spent)s + %(reallocated)s = "
                    "%(sum)s EUR, not the stated %(total)s EUR."
                )
                % {
                    "spent": money(stated.spent),
                    "reallocated": money(stated.reallocated),
                    "sum": money(stated.spent + stated.reallocated),
                    "total": money(stated.total),
                }
            )
        if stated.total != realisation.total:
            warnings.append(
                _(
                    "The report states a total of %(stated)s EUR; the realisation adds up to "
                    "%(computed)s EUR."
                )
                % {"stated": money(stated.total), "computed": money(realisation.total)}
            )
    available = realisation.available
    if available is not None and realisation.spent > available:
        warnings.append(
            _("The spending %(spent)s EUR exceeds the money available, %(available)s EUR.")
            % {"spent": money(realisation.spent), "available": money(available)}
        )
    return tuple(warnings)
