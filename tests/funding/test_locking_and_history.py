"""Two officers on one line: the second save is refused. Every change is kept in history."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from funding.models import BudgetLine
from tests.pages import admin_change_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(demo):
    return BudgetLine.objects.get(
        strategy=demo, association__slug="po-moc", category="programme_material"
    )


def open_line(client, line):
    """The line's change form as the page renders it."""
    return admin_change_form(client, reverse("admin:funding_budgetline_change", args=[line.pk]))


def test_the_second_of_two_concurrent_saves_is_refused_and_keeps_its_input(persona, client, line):
    client.force_login(persona("koordinator"))
    second = open_line(client, line)  # the coordinator opens the line ...
    client.force_login(persona("admin"))
    first = open_line(client, line)  # ... and so does the administrator
    assert first.set("amount", "6800.00").submit("_save").status_code == 302

    client.force_login(persona("koordinator"))
    refused = second.set("amount", "6.900,00").submit("_save")
    assert refused.status_code == 200
    with translation.override("sl"):
        errors = refused.context["adminform"].form.non_field_errors()
        assert "admin je zapis „Društvo PO MOČ Sežana 2025" in errors[0]
        assert "Nič ni bilo shranjeno" in errors[0]
    assert 'value="6.900,00"' in refused.content.decode()  # the officer's input is kept
    line.refresh_from_db()
    assert line.amount == Decimal("6800.00")

    # Having seen the message, a second save of the page as it now stands overwrites on purpose.
    again = admin_change_form(client, refused.wsgi_request.path, response=refused)
    assert int(again["expected_version"]) == line.version
    assert again.submit("_save").status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("6900.00")


def test_a_change_is_kept_with_who_when_old_and_new_and_can_be_reverted(persona, client, line):
    client.force_login(persona("koordinator"))
    assert open_line(client, line).set("amount", "7000.00").submit("_save").status_code == 302
    latest, before = line.history.order_by("-history_date", "-history_id")[:2]
    assert latest.history_user.username == "koordinator"
    delta = latest.diff_against(before)
    assert [(c.field, c.old, c.new) for c in delta.changes if c.field == "amount"] == [
        ("amount", Decimal("6721.00"), Decimal("7000.00"))
    ]
    history_page = client.get(reverse("admin:funding_budgetline_history", args=[line.pk]))
    assert history_page.status_code == 200
    assert "koordinator" in history_page.content.decode()

    # Revert through the admin's history form: the old record's values, saved anew.
    line.refresh_from_db()
    revert_url = reverse(
        "admin:funding_budgetline_simple_history", args=[line.pk, before.history_id]
    )
    revert = admin_change_form(client, revert_url)
    assert revert["amount"] == "6.721,00"  # the old record's values, as the page shows them
    response = revert.submit("_save")
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("6721.00")
    assert line.history.count() == 3  # created, changed, reverted


def post_line_to(client, target, line, amount, expected_version=None):
    """A revert request written by hand: what a reader, whose page offers no save, could forge."""
    return client.post(
        target,
        {
            "strategy": line.strategy_id,
            "association": line.association_id,
            "year": line.year,
            "category": line.category,
            "amount": amount,
            "note": line.note,
            "expected_version": line.version if expected_version is None else expected_version,
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
        },
    )


def test_readers_see_history_but_cannot_revert(persona, client, line):
    client.force_login(persona("referent.sezana"))
    assert (
        client.get(reverse("admin:funding_budgetline_history", args=[line.pk])).status_code == 200
    )
    record = line.history.earliest("history_date")
    revert_url = reverse(
        "admin:funding_budgetline_simple_history", args=[line.pk, record.history_id]
    )
    response = post_line_to(client, revert_url, line, "1.00")
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.amount == Decimal("6721.00")


def test_the_strategy_import_records_history_once_per_line(demo):
    assert all(line.history.count() == 1 for line in BudgetLine.objects.filter(strategy=demo))


def test_history_keeps_an_edit_an_import_and_a_revert_in_order(persona, client, line, tmp_path):
    from django.core.management import call_command

    client.force_login(persona("koordinator"))
    assert open_line(client, line).set("amount", "7.000,00").submit("_save").status_code == 302
    source = tmp_path / "vrstice.csv"
    source.write_text(
        "strategija;leto;društvo;kategorija;opis;znesek\n"
        f"kras-2025-2029;2025;po-moc;Materialni stroški programa;{line.note};7.100,00\n",
        encoding="utf-8",
    )
    call_command("import_budget_lines", str(source), "--user", "admin", stdout=io.StringIO())
    line.refresh_from_db()
    assert line.amount == Decimal("7100.00")
    created = line.history.earliest("history_date")
    revert_url = reverse(
        "admin:funding_budgetline_simple_history", args=[line.pk, created.history_id]
    )
    assert admin_change_form(client, revert_url).submit("_save").status_code == 302
    records = list(line.history.order_by("history_date", "history_id"))
    assert [
        (r.history_type, r.amount, getattr(r.history_user, "username", None)) for r in records
    ] == [
        ("+", Decimal("6721.00"), None),  # created by load_demo
        ("~", Decimal("7000.00"), "koordinator"),
        ("~", Decimal("7100.00"), "admin"),  # the import, recorded with who ran it
        ("~", Decimal("6721.00"), "koordinator"),  # the revert
    ]
