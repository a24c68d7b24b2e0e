"""Copying a year's lines to the next year with indexation, as a service and an admin action."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from funding.models import BudgetLine
from funding.services import budget_lines_copy_to_next_year
from tests.pages import changelist_form, open_form

pytestmark = pytest.mark.django_db


def lines_2025(demo, **filters):
    return BudgetLine.objects.filter(strategy=demo, year=2025, **filters).order_by("pk")


def test_material_costs_plus_2_percent_with_items_that_still_add_up(demo):
    copies = budget_lines_copy_to_next_year(lines=lines_2025(demo), percent=Decimal("2"))
    assert len(copies) == 8
    vezi_material = BudgetLine.objects.get(
        strategy=demo, year=2026, association__slug="vezi", category="programme_material"
    )
    assert vezi_material.amount == Decimal("4659.36")  # 4568 × 1.02
    rk_staff = BudgetLine.objects.get(
        strategy=demo, year=2026, association__slug="rk-sezana", category="staff"
    )
    assert [item.amount for item in rk_staff.items.all()] == [
        Decimal("24870.66"),  # 24383 × 1.02
        Decimal("27596.10"),  # 27055 × 1.02
    ]
    assert rk_staff.amount == Decimal("52466.76") == rk_staff.items_total()


def test_a_copy_that_would_collide_or_leave_the_period_writes_nothing(demo):
    budget_lines_copy_to_next_year(lines=lines_2025(demo, association__slug="vezi"), percent=0)
    before = BudgetLine.objects.count()
    with pytest.raises(ValidationError) as raised:
        budget_lines_copy_to_next_year(lines=lines_2025(demo), percent=Decimal("2"))
    assert len(raised.value.messages) == 2  # VEZI's two lines exist in 2026 already
    assert BudgetLine.objects.count() == before
    last_year = BudgetLine.objects.filter(strategy=demo, year=2026)
    BudgetLine.objects.filter(pk__in=last_year).update(year=2029)
    with pytest.raises(ValidationError, match="2030"):
        budget_lines_copy_to_next_year(lines=BudgetLine.objects.filter(year=2029), percent=0)


def test_an_implausible_indexation_is_refused(demo):
    with pytest.raises(ValidationError):
        budget_lines_copy_to_next_year(lines=lines_2025(demo), percent=Decimal("200"))
    assert not BudgetLine.objects.filter(year=2026).exists()


def test_the_admin_action_asks_for_the_indexation_then_copies(demo, persona, client):
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_budgetline_changelist")
    selected = list(lines_2025(demo).values_list("pk", flat=True))
    listing = changelist_form(client, url)
    listing.set("_selected_action", selected).set("action", "copy_to_next_year")
    asked = listing.submit("index")
    assert asked.status_code == 200
    indexation = open_form(client, url, button="apply", response=asked)
    assert "percent" in indexation.names
    assert sorted(map(int, indexation.values["_selected_action"])) == sorted(selected)
    assert not BudgetLine.objects.filter(year=2026).exists()
    done = indexation.set("percent", "2,00").submit("apply")
    assert done.status_code == 302
    assert BudgetLine.objects.filter(strategy=demo, year=2026).count() == 8


def test_readers_have_no_copy_action(demo, persona, client):
    client.force_login(persona("uradnik.sezana"))
    url = reverse("admin:funding_budgetline_changelist")
    assert "copy_to_next_year" not in changelist_form(client, url).options("action")
    # Forged: the indexation page's post, which this reader's list never leads to.
    selected = [str(pk) for pk in lines_2025(demo).values_list("pk", flat=True)]
    forged = {"action": "copy_to_next_year", "_selected_action": selected, "apply": "1"}
    client.post(url, {**forged, "percent": "2"})
    assert not BudgetLine.objects.filter(year=2026).exists()


def test_the_table_action_opens_the_selections_table(demo, persona, client):
    client.force_login(persona("referent.sezana"))
    url = reverse("admin:funding_budgetline_changelist")
    listing = changelist_form(client, url)
    listing.set("_selected_action", list(lines_2025(demo).values_list("pk", flat=True)))
    response = listing.set("action", "open_table_pdf").submit("index")
    assert response["Location"] == "/reports/strategies/kras-2025-2029/2025/cost-sharing.pdf"
