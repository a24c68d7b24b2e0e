"""The rules of the domain model: in the database where it can hold them, in clean() too."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms import inlineformset_factory
from django.utils import translation

from funding.admin import ItemsFormSet, KeyFormSet
from funding.models import (
    CATEGORY_EXCHANGE_LABELS,
    BudgetCategory,
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    StrategyShare,
)
from tests.factories import (
    AssociationFactory,
    BudgetItemFactory,
    BudgetLineFactory,
    MembershipFactory,
    MunicipalityFactory,
    ShareFactory,
    StrategyFactory,
)

pytestmark = pytest.mark.django_db


def violates_database(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_the_database_refuses_a_negative_amount():
    line = BudgetLineFactory()
    assert violates_database(lambda: BudgetLine.objects.filter(pk=line.pk).update(amount=-1))
    assert violates_database(lambda: BudgetItemFactory(line=line, amount=Decimal("-0.01")))
    assert BudgetLine.objects.get(pk=line.pk).amount == Decimal("1000.00")


def test_the_database_refuses_a_second_line_of_the_same_category_and_year():
    line = BudgetLineFactory()
    assert violates_database(
        lambda: BudgetLineFactory(
            strategy=line.strategy, association=line.association, category=line.category
        )
    )
    assert BudgetLine.objects.count() == 1


@pytest.mark.parametrize("share", ["0.00", "-1.00", "100.01"])
def test_the_database_refuses_a_share_outside_0_to_100(share):
    strategy = StrategyFactory()
    assert violates_database(lambda: ShareFactory(strategy=strategy, share_percent=Decimal(share)))
    assert StrategyShare.objects.count() == 0


def test_the_database_refuses_a_municipality_twice_in_one_key():
    share = ShareFactory(share_percent=Decimal("40.00"))
    assert violates_database(
        lambda: ShareFactory(
            strategy=share.strategy, municipality=share.municipality, share_percent=Decimal("60")
        )
    )


def test_the_database_refuses_a_period_that_ends_before_it_starts():
    assert violates_database(lambda: StrategyFactory(start_year=2030, end_year=2029))
    assert FundingStrategy.objects.count() == 0


def test_the_database_refuses_a_pay_grade_outside_the_scale():
    assert violates_database(lambda: BudgetItemFactory(pay_grade=66))


def test_a_line_outside_the_strategy_period_is_invalid_with_the_year_named():
    membership = MembershipFactory()
    line = BudgetLine(
        strategy=membership.strategy,
        association=membership.association,
        year=2030,
        category=BudgetCategory.STAFF,
        amount=Decimal("1"),
    )
    with translation.override("en"):
        with pytest.raises(ValidationError) as raised:
            line.full_clean()
        assert raised.value.message_dict["year"] == [
            "The year 2030 lies outside the strategy's period 2025–2029."
        ]


def test_a_line_of_an_association_outside_the_strategy_is_invalid():
    strategy = StrategyFactory()
    line = BudgetLine(
        strategy=strategy,
        association=AssociationFactory(short_name="Tuje društvo"),
        year=2025,
        category=BudgetCategory.STAFF,
        amount=Decimal("1"),
    )
    with translation.override("en"):
        with pytest.raises(ValidationError) as raised:
            line.full_clean()
        message = raised.value.message_dict["association"][0]
    assert "Tuje društvo is not part of the strategy" in message


def test_an_amount_with_three_decimals_is_invalid_not_rounded():
    line = BudgetLineFactory.build(amount=Decimal("10.005"))
    with pytest.raises(ValidationError) as raised:
        line.full_clean(exclude=["strategy", "association"])
    assert "amount" in raised.value.message_dict


def test_a_line_whose_items_do_not_add_up_is_invalid():
    membership = MembershipFactory()
    line = BudgetLineFactory(
        strategy=membership.strategy, association=membership.association, amount=Decimal("900")
    )
    BudgetItemFactory(line=line, amount=Decimal("500"))
    BudgetItemFactory(line=line, amount=Decimal("399.99"))
    with translation.override("sl"):
        with pytest.raises(ValidationError) as raised:
            line.full_clean()
        assert raised.value.message_dict["amount"] == [
            "Postavke skupaj znašajo 899,99, znesek vrstice pa je 900,00."
        ]
    BudgetItem.objects.filter(amount=Decimal("399.99")).update(amount=Decimal("400"))
    line.full_clean()


def _key_formset(strategy, shares):
    formset_class = inlineformset_factory(
        FundingStrategy,
        StrategyShare,
        formset=KeyFormSet,
        fields=["municipality", "share_percent", "position"],
        extra=len(shares),
    )
    data = {
        "shares-TOTAL_FORMS": str(len(shares)),
        "shares-INITIAL_FORMS": "0",
    }
    for index, (municipality, share) in enumerate(shares):
        data[f"shares-{index}-municipality"] = str(municipality.pk)
        data[f"shares-{index}-share_percent"] = share
        data[f"shares-{index}-position"] = str(index)
    return formset_class(data, instance=strategy, prefix="shares")


def test_the_key_form_refuses_shares_that_do_not_sum_to_100():
    strategy = StrategyFactory()
    a, b = MunicipalityFactory(), MunicipalityFactory()
    formset = _key_formset(strategy, [(a, "60.00"), (b, "39.99")])
    with translation.override("sl"):
        assert not formset.is_valid()
        assert formset.non_form_errors() == [
            "Deleži ključa delitve skupaj znašajo 99,99 %, ne 100,00 %."
        ]
    formset = _key_formset(strategy, [(a, "60.01"), (b, "39.99")])
    assert formset.is_valid()
    formset.save()
    assert strategy.key_total() == Decimal("100.00")


def test_the_items_form_refuses_items_that_do_not_add_up_to_their_line():
    line = BudgetLineFactory(amount=Decimal("1000.00"))
    formset_class = inlineformset_factory(
        BudgetLine, BudgetItem, formset=ItemsFormSet, fields=["description", "amount"], extra=2
    )
    data = {
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-0-description": "tajnica",
        "items-0-amount": "600",
        "items-1-description": "računovodja",
        "items-1-amount": "300",
    }
    formset = formset_class(data, instance=line, prefix="items")
    with translation.override("en"):
        assert not formset.is_valid()
        assert "add up to 900.00" in formset.non_form_errors()[0]
    assert BudgetItem.objects.count() == 0


def test_category_exchange_labels_are_the_slovenian_interface_labels():
    with translation.override("sl"):
        interface_labels = {category: str(category.label) for category in BudgetCategory}
    assert interface_labels == CATEGORY_EXCHANGE_LABELS
