"""Copying a year's lines to the next year with indexation, as a service and an admin action."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from funding.models import BudgetLine
from funding.services import budget_lines_copy_to_next_year

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
    selected = [str(pk) for pk in lines_2025(demo).values_list("pk", flat=True)]
    asked = client.post(url, {"action": "copy_to_next_year", "_selected_action": selected})
    assert asked.status_code == 200
    assert 'name="percent"' in asked.content.decode()
    assert not BudgetLine.objects.filter(year=2026).exists()
    done = client.post(
        url,
        {
            "action": "copy_to_next_year",
            "_selected_action": selected,
            "apply": "1",
            "percent": "2,00",
        },
    )
    assert done.status_code == 302
    assert BudgetLine.objects.filter(strategy=demo, year=2026).count() == 8


def test_readers_have_no_copy_action(demo, persona, client):
    client.force_login(persona("uradnik.sezana"))
    url = reverse("admin:funding_budgetline_changelist")
    page = client.get(url).content.decode()
    assert "copy_to_next_year" not in page
    selected = [str(pk) for pk in lines_2025(demo).values_list("pk", flat=True)]
    client.post(
        url,
        {"action": "copy_to_next_year", "_selected_action": selected, "apply": "1", "percent": "2"},
    )
    assert not BudgetLine.objects.filter(year=2026).exists()


def test_the_table_action_opens_the_selections_table(demo, persona, client):
    client.force_login(persona("referent.sezana"))
    url = reverse("admin:funding_budgetline_changelist")
    selected = [str(pk) for pk in lines_2025(demo).values_list("pk", flat=True)]
    response = client.post(url, {"action": "open_table_pdf", "_selected_action": selected})
    assert response["Location"] == "/reports/strategies/kras-2025-2029/2025/cost-sharing.pdf"
