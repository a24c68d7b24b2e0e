"""Deriving a strategy's later years from its base year by the indexation rates."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from funding.models import BudgetItem, BudgetLine, IndexationRate
from funding.projection import projection_derive, projection_derive_year
from tests.pages import admin_change_form, changelist_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; names of associations stay as they are."""
    with translation.override("en"):
        yield


def line(strategy, year, association, category) -> BudgetLine:
    return BudgetLine.objects.get(
        strategy=strategy, year=year, association__slug=association, category=category
    )


def rows(strategy):
    """Every line and item of the strategy, to prove that a refused derivation wrote nothing."""
    return (
        list(BudgetLine.objects.filter(strategy=strategy).order_by("pk").values()),
        list(BudgetItem.objects.filter(line__strategy=strategy).order_by("pk").values()),
    )


def test_2026_is_2025_indexed_by_each_categorys_rate_half_up_to_the_cent(demo):
    derived = projection_derive_year(strategy=demo, year=2026)
    assert len(derived) == 8
    # Programme material costs +2,50 %: 6721 × 1.025 = 6889.025, half-up 6889.03 (the
    # default banker's rounding would give 6889.02); 22045 × 1.025 = 22596.125 → 22596.13.
    assert line(demo, 2026, "po-moc", "programme_material").amount == Decimal("6889.03")
    assert line(demo, 2026, "mdpm-sezana", "programme_material").amount == Decimal("22596.13")
    # Staff material costs +2,50 %: 5047 × 1.025 = 5173.175 → 5173.18.
    assert line(demo, 2026, "po-moc", "staff_material").amount == Decimal("5173.18")
    # Staff costs +4,50 %, item by item; the line is the sum of its indexed items.
    rk_staff = line(demo, 2026, "rk-sezana", "staff")
    assert [item.amount for item in rk_staff.items.all()] == [
        Decimal("25480.24"),  # 24383 × 1.045 = 25480.235
        Decimal("28272.48"),  # 27055 × 1.045 = 28272.475
    ]
    assert rk_staff.amount == Decimal("53752.72") == rk_staff.items_total()
    assert [item.pay_grade for item in rk_staff.items.all()] == [43, 28]
    for derived_line in BudgetLine.objects.filter(strategy=demo, year=2026):
        total = derived_line.items_total()
        assert total is None or total == derived_line.amount, derived_line


def test_all_later_years_are_derived_in_order_each_from_the_year_before(demo):
    derived = projection_derive(strategy=demo)
    assert {year: len(lines) for year, lines in derived.items()} == {
        2026: 8,
        2027: 8,
        2028: 8,
        2029: 8,
    }
    # VEZI's programme material: 4568 → +2,5 % 4682.20 → +2,2 % 4785.21 (4785.2084)
    # → +2 % 4880.91 (4880.9142) → +2 % 4978.53 (4978.5282).
    assert [line(demo, year, "vezi", "programme_material").amount for year in demo.years] == [
        Decimal("4568.00"),
        Decimal("4682.20"),
        Decimal("4785.21"),
        Decimal("4880.91"),
        Decimal("4978.53"),
    ]
    assert BudgetItem.objects.filter(line__strategy=demo).count() == 6 * 5
    assert projection_derive(strategy=demo) == {}  # nothing left to derive, nothing doubled
    assert BudgetLine.objects.filter(strategy=demo).count() == 40


def test_an_edited_year_is_kept_and_becomes_the_base_of_the_next(demo):
    projection_derive_year(strategy=demo, year=2026)
    edited = line(demo, 2026, "po-moc", "programme_material")
    edited.amount = Decimal("7000.00")
    edited.full_clean()
    edited.save()
    derived = projection_derive(strategy=demo)
    assert list(derived) == [2027, 2028, 2029]
    assert line(demo, 2026, "po-moc", "programme_material").amount == Decimal("7000.00")
    assert line(demo, 2027, "po-moc", "programme_material").amount == Decimal("7154.00")  # +2,2 %


def test_a_missing_rate_is_refused_naming_association_category_and_year(demo):
    IndexationRate.objects.filter(strategy=demo, year=2028, category="staff").delete()
    before = rows(demo)
    with pytest.raises(ValidationError) as raised:
        projection_derive(strategy=demo)
    messages = raised.value.messages
    assert len(messages) == 3  # VEZI, RK Sežana and MDPM have staff costs
    assert "Društvo VEZI, Staff costs: there is no indexation rate for 2028." in messages
    # All or nothing: 2026 and 2027, derivable on their own, are not written either.
    assert rows(demo) == before


def test_the_message_names_the_category_in_slovenian_by_default(demo):
    IndexationRate.objects.filter(strategy=demo, year=2026).delete()
    with translation.override("sl"), pytest.raises(ValidationError) as raised:
        projection_derive_year(strategy=demo, year=2026)
    assert any("Stroški zaposlenih" in m and "2026" in m for m in raised.value.messages)


def test_a_line_that_exists_already_is_refused_and_nothing_is_written(demo):
    BudgetLine.objects.create(
        strategy=demo,
        association=line(demo, 2025, "vezi", "staff").association,
        year=2026,
        category="programme_material",
        amount=Decimal("4600.00"),
    )
    before = rows(demo)
    with pytest.raises(ValidationError) as raised:
        projection_derive_year(strategy=demo, year=2026)
    assert raised.value.messages == [
        "Društvo VEZI 2025: Programme material costs: the year 2026 already has this line."
    ]
    assert rows(demo) == before


@pytest.mark.parametrize("year", [2025, 2030])
def test_a_year_that_is_not_a_later_year_of_the_strategy_is_refused(demo, year):
    before = rows(demo)
    with pytest.raises(ValidationError, match=f"The year {year} is not a later year"):
        projection_derive_year(strategy=demo, year=year)
    assert rows(demo) == before


def test_a_year_after_a_year_without_lines_is_refused(demo):
    with pytest.raises(ValidationError, match="The year 2026 has no budget lines to derive 2027"):
        projection_derive_year(strategy=demo, year=2027)
    assert not BudgetLine.objects.filter(strategy=demo, year=2027).exists()


def test_a_negative_rate_within_the_bounds_lowers_the_lines(demo):
    rate = IndexationRate.objects.get(strategy=demo, year=2026, category="programme_material")
    rate.percent = Decimal("-3.00")
    rate.full_clean()
    rate.save()
    projection_derive_year(strategy=demo, year=2026)
    assert line(demo, 2026, "po-moc", "programme_material").amount == Decimal("6519.37")  # × 0,97


def test_a_derived_line_is_edited_in_the_admin_like_any_other(demo, persona, client):
    projection_derive(strategy=demo)
    derived = line(demo, 2027, "po-moc", "programme_material")
    client.force_login(persona("koordinator"))
    form = admin_change_form(client, reverse("admin:funding_budgetline_change", args=[derived.pk]))
    response = form.set("amount", "7.100,00").submit("_save")
    assert response.status_code == 302
    derived.refresh_from_db()
    assert derived.amount == Decimal("7100.00")


def derive_action(client, strategy):
    """Tick the strategy on the list, choose "derive the later years" and press Go."""
    # The interface's language is chosen by a cookie (Slovenian without one).
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    listing = changelist_form(client, reverse("admin:funding_fundingstrategy_changelist"))
    listing.set("_selected_action", [strategy.pk]).set("action", "derive_later_years")
    return listing.submit("index", follow=True)


def test_the_admin_action_derives_the_later_years_and_says_so(demo, persona, client):
    client.force_login(persona("koordinator"))
    response = derive_action(client, demo)
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["kras-2025-2029: derived 32 lines for 2026, 2027, 2028, 2029."]
    assert BudgetLine.objects.filter(strategy=demo).count() == 40
    shown = [str(message) for message in derive_action(client, demo).context["messages"]]
    assert shown == ["kras-2025-2029: every later year has lines already; nothing to derive."]


def test_the_admin_action_names_each_line_it_cannot_derive(demo, persona, client):
    IndexationRate.objects.filter(strategy=demo, year=2026, category="staff_material").delete()
    client.force_login(persona("koordinator"))
    shown = [str(message) for message in derive_action(client, demo).context["messages"]]
    assert shown == [
        "Društvo PO MOČ Sežana, Staff material costs: there is no indexation rate for 2026.",
        "kras-2025-2029: nothing was derived.",
    ]
    assert BudgetLine.objects.filter(strategy=demo).count() == 8


@pytest.mark.parametrize("username", ["uradnik.sezana", "svetnik.sezana", "referent.sezana"])
def test_readers_have_no_derive_action_and_cannot_post_it(demo, persona, client, username):
    client.force_login(persona(username))
    url = reverse("admin:funding_fundingstrategy_changelist")
    page = client.get(url)
    assert "derive_later_years" not in page.content.decode()
    # Forged: the action this reader's list does not offer, posted by hand.
    forged = {"action": "derive_later_years", "_selected_action": [str(demo.pk)]}
    client.post(url, forged, follow=True)
    assert BudgetLine.objects.filter(strategy=demo).count() == 8


def test_the_rates_are_listed_in_the_admin_by_strategy_year_and_category(demo, persona, client):
    client.force_login(persona("uradnik.komen"))
    url = reverse("admin:funding_indexationrate_changelist")
    page = client.get(url).content.decode()
    assert page.count("ilustrativno") == 16
    assert "2026" in page and "2.026" not in page
    client.force_login(persona("zunanji"))
    assert client.get(url).status_code == 302  # to the login page: no admin access
