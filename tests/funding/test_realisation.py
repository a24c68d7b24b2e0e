"""Municipal budget items: the product computes their realisation and flags stated figures."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from funding.models import Allocation, MunicipalBudgetItem, Reallocation
from funding.realisation import item_realisation
from funding.roles import OFFICER
from tests.factories import unpublished

pytestmark = pytest.mark.django_db


@pytest.fixture
def las(demo):
    return MunicipalBudgetItem.objects.get(name="LAS – Program za boj proti drogi")


def test_the_velenje_realisation_adds_up_to_30383_79_from_its_parts(las):
    result = item_realisation(las)
    assert result.spent == Decimal("25883.79")
    assert result.reallocated_out == Decimal("4500.00")
    assert result.total == Decimal("30383.79")
    assert [(row.recipient, row.amount) for row in result.rows][:2] == [
        ("Psihološka svetovalnica Posvet v Velenju", Decimal("18500.00")),
        ("Preventivni projekti MC Velenje (prerazporeditev)", Decimal("4500.00")),
    ]
    assert sum(row.amount for row in result.rows) == result.total
    assert len(result.rows) == 8


def test_the_reports_typo_4566_is_caught_twice(las):
    with translation.override("en"):
        warnings = item_realisation(las).warnings
    assert warnings == (
        "The report states reallocations of 4,566.00 EUR; the recorded reallocations are "
        "4,500.00 EUR.",
        "The report's own sum does not hold: 25,883.79 + 4,566.00 = 30,449.79 EUR, not the "
        "stated 30,383.79 EUR.",
    )


def test_the_target_item_receives_the_reallocation(las):
    target = MunicipalBudgetItem.objects.get(name="Mladinski center Velenje")
    result = item_realisation(target)
    assert (result.reallocated_in, result.spent, result.warnings) == (
        Decimal("4500.00"),
        Decimal("4500.00"),
        (),
    )


def test_spending_above_the_available_money_is_refused_and_nothing_is_saved(las):
    las.adopted_amount = Decimal("30000.00")  # 25,883.79 spent and 4,500 moved out
    with unpublished(las.annual_reports.get()):
        las.save()
    allocation = Allocation(item=las, recipient="Nov program", realised_amount=Decimal("1.00"))
    with translation.override("sl"), pytest.raises(ValidationError) as raised:
        allocation.full_clean()
    message = raised.value.message_dict["realised_amount"][0]
    assert "30.384,79 EUR" in message and "30.000,00 EUR" in message
    assert not Allocation.objects.filter(recipient="Nov program").exists()


def test_a_reallocation_needs_two_items_and_a_positive_amount(las):
    for amount, target in ((Decimal("5"), las), (Decimal("0"), None)):
        other = target or MunicipalBudgetItem.objects.get(name="Mladinski center Velenje")
        with (
            unpublished(las.annual_reports.get()),
            pytest.raises(IntegrityError),
            transaction.atomic(),
        ):
            Reallocation.objects.create(source=las, target=other, amount=amount, reason="x")
    assert las.reallocations_out.count() == 1


@pytest.fixture
def velenje_officer(las, persona):
    """The demo's officer of Velenje: an officer's role and a membership in Velenje only."""
    user = persona("uradnik.velenje")
    assert user.groups.filter(name=OFFICER).exists()
    assert list(user.memberships.values_list("municipality", flat=True)) == [las.municipality_id]
    return user


def test_an_officer_sees_and_edits_only_its_municipalitys_items(
    client, persona, las, velenje_officer
):
    client.force_login(velenje_officer)
    page = client.get(reverse("admin:funding_municipalbudgetitem_change", args=[las.pk]))
    text = page.content.decode()
    assert "30.383,79 EUR" in text and "4.566,00" in text  # computed sum and the warning
    # Its realisation table is part of the published Velenje report: read-only, and why.
    assert 'name="_save"' not in text and "objavljenega poročila" in text
    other = MunicipalBudgetItem.objects.create(
        municipality=las.municipality, year=2025, name="Nova postavka"
    )
    other_page = client.get(reverse("admin:funding_municipalbudgetitem_change", args=[other.pk]))
    assert 'name="_save"' in other_page.content.decode()

    client.force_login(persona("uradnik.sezana"))
    listing = client.get(reverse("admin:funding_municipalbudgetitem_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].queryset) == []
    guessed = client.get(reverse("admin:funding_municipalbudgetitem_change", args=[las.pk]))
    assert guessed.status_code == 302  # as if it did not exist


def test_the_budget_item_list_costs_no_query_per_item(client, persona, las):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(persona("admin"))
    url = reverse("admin:funding_municipalbudgetitem_changelist")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for year in range(2025, 2030):  # five more items, each with an allocation
        item = MunicipalBudgetItem.objects.create(
            municipality=las.municipality, year=year, name=las.name
        )
        Allocation.objects.create(item=item, recipient="x", realised_amount=Decimal("1"))
    with CaptureQueriesContext(connection) as more:
        response = client.get(url)
    assert response.status_code == 200
    assert len(more) == len(few)
