"""The admin shows the demo data, in Slovenian, and each role gets what its group allows."""

import pytest
from django.urls import reverse

from funding.models import BudgetLine
from tests.pages import admin_change_form, open_form

pytestmark = pytest.mark.django_db

ADMIN_LISTS = [
    "funding_municipality",
    "funding_fundingstrategy",
    "funding_budgetline",
    "funding_budgetitem",
    "funding_inkindsupport",
    "funding_strategyshare",
    "funding_membership",
    "programs_association",
    "programs_programme",
    "programs_institution",
]


@pytest.mark.parametrize("model", ADMIN_LISTS)
def test_every_model_has_an_admin_list_and_add_page(demo, persona, client, model):
    client.force_login(persona("admin"))
    response = client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    assert client.get(reverse(f"admin:{model}_add")).status_code == 200


def test_the_strategy_page_shows_key_lines_and_in_kind_support_in_slovenian(demo, persona, client):
    client.force_login(persona("admin"))
    page = client.get(reverse("admin:funding_fundingstrategy_change", args=[demo.pk])).content
    text = page.decode()
    assert "Ključ delitve" in text or "ključ delitve" in text
    # Shares and amounts are text inputs in the Slovenian format, whatever the browser.
    assert 'name="shares-0-share_percent" value="50,78"' in text
    assert "Štorje 26" in text
    lines = client.get(reverse("admin:funding_budgetline_changelist") + "?year=2025").content
    assert "51.438,00" in lines.decode()


def test_the_budget_line_page_lists_its_positions(demo, persona, client):
    client.force_login(persona("admin"))
    line = BudgetLine.objects.get(association__slug="rk-sezana", category="staff")
    text = client.get(reverse("admin:funding_budgetline_change", args=[line.pk])).content.decode()
    assert "sekretarka območnega združenja" in text
    assert 'value="24.383,00"' in text
    assert "51.438,00 EUR, enako znesku." in text  # the sum of its items, shown


def test_the_interface_speaks_slovenian_even_to_an_english_browser(demo, persona, client):
    client.force_login(persona("admin"))
    url = reverse("admin:funding_budgetline_changelist")
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Proračunske vrstice" in response.content.decode()


def test_the_language_switch_turns_the_interface_to_english(demo, persona, client):
    client.force_login(persona("admin"))
    url = reverse("admin:funding_budgetline_changelist")
    switch = open_form(client, url, button="language")
    assert switch.buttons == [("language", "en")]  # the page offers the language it is not in
    switched = switch.submit("language")
    assert switched.status_code == 302
    assert switched["Location"] == url
    english = client.get(url)
    assert "Budget lines" in english.content.decode()
    open_form(client, url, button="language", response=english).submit("language")
    assert "Proračunske vrstice" in client.get(url).content.decode()


def test_the_coordinator_can_change_a_budget_line(demo, persona, client):
    client.force_login(persona("koordinator"))
    line = BudgetLine.objects.get(association__slug="po-moc", category="programme_material")
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    form = admin_change_form(client, url).set("amount", "6800.00")
    response = form.submit("_save")
    assert response.status_code == 302, response.content.decode()[:2000]
    line.refresh_from_db()
    assert str(line.amount) == "6800.00"


@pytest.mark.parametrize("username", ["uradnik.sezana", "svetnik.sezana", "referent.sezana"])
def test_reading_roles_can_view_but_not_change_budget_lines(demo, persona, client, username):
    client.force_login(persona(username))
    line = BudgetLine.objects.get(association__slug="po-moc", category="programme_material")
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="amount"' not in page.content.decode()  # shown, not editable
    # Forged: the page offers neither an amount to type nor a save, so the post is by hand.
    forged = {"amount": "1,00", "year": 2025}
    response = client.post(url, forged)
    assert response.status_code == 403
    assert client.get(reverse("admin:funding_budgetline_add")).status_code == 403
    line.refresh_from_db()
    assert str(line.amount) == "6721.00"


def test_an_outsider_cannot_enter_the_admin(demo, persona, client):
    client.force_login(persona("zunanji"))
    response = client.get(reverse("admin:funding_budgetline_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_an_anonymous_visitor_is_sent_to_log_in(demo, client):
    response = client.get("/")
    assert response.status_code == 302
    followed = client.get(response["Location"])
    assert followed.status_code == 302
    assert reverse("admin:login") in followed["Location"]


def test_budget_lines_list_in_the_table_order_with_years_unseparated(demo, persona, client):
    client.force_login(persona("admin"))
    response = client.get(reverse("admin:funding_budgetline_changelist"))
    text = response.content.decode()
    assert "2.025" not in text
    assert '<td class="field-year_column">2025</td>' in text
    listed = [(line.association.slug, line.category) for line in response.context["cl"].result_list]
    assert listed == [
        ("po-moc", "staff_material"),
        ("po-moc", "programme_material"),
        ("vezi", "staff"),
        ("vezi", "programme_material"),
        ("rk-sezana", "staff"),
        ("rk-sezana", "programme_material"),
        ("mdpm-sezana", "staff"),
        ("mdpm-sezana", "programme_material"),
    ]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("6.800,00", "6800.00"), ("6800,5", "6800.50"), ("6800.50", "6800.50"), ("6800", "6800.00")],
)
def test_amounts_are_read_as_officers_type_them(demo, persona, client, typed, stored):
    client.force_login(persona("koordinator"))
    line = BudgetLine.objects.get(association__slug="po-moc", category="programme_material")
    response = post_amount(client, line, typed)
    assert response.status_code == 302
    line.refresh_from_db()
    assert str(line.amount) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1,005", "„1,005“ je dvoumen"),
        ("šest", "„šest“ ni število"),
        ("10,005", "„10,005“ je dvoumen"),
        ("6800,1234", "„6800,1234“ ima več kot 2 decimalk"),
        ("-5,00", "je manj od najmanjše dovoljene vrednosti"),
    ],
)
def test_a_bad_amount_is_refused_in_slovenian_quoting_it_and_keeping_it(
    demo, persona, client, typed, message
):
    client.force_login(persona("koordinator"))
    line = BudgetLine.objects.get(association__slug="po-moc", category="programme_material")
    response = post_amount(client, line, typed)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["amount"]
    assert any(message in error for error in errors), errors
    assert f'value="{typed}"' in response.content.decode()
    line.refresh_from_db()
    assert str(line.amount) == "6721.00"


def post_amount(client, line, typed):
    """Type an amount into the budget line's change form as rendered, and save it."""
    form = admin_change_form(client, reverse("admin:funding_budgetline_change", args=[line.pk]))
    return form.set("amount", typed).submit("_save")
