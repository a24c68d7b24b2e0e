"""Two officers on one line: the second save is refused. Every change is kept in history."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from funding.models import BudgetLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(demo):
    return BudgetLine.objects.get(
        strategy=demo, association__slug="po-moc", category="programme_material"
    )


def post_line(client, line, amount, expected_version):
    """Save the line's change form with a new amount, as opened at ``expected_version``."""
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    return post_line_to(client, url, line, amount, expected_version)


def test_the_second_of_two_concurrent_saves_is_refused_and_keeps_its_input(persona, client, line):
    opened_at = line.version  # both officers open the form at this version
    client.force_login(persona("admin"))
    assert post_line(client, line, "6800.00", opened_at).status_code == 302

    client.force_login(persona("koordinator"))
    refused = post_line(client, line, "6.900,00", opened_at)
    assert refused.status_code == 200
    with translation.override("sl"):
        errors = refused.context["adminform"].form.non_field_errors()
        assert "admin je zapis „Društvo PO MOČ Sežana 2025" in errors[0]
        assert "Nič ni bilo shranjeno" in errors[0]
    assert 'value="6.900,00"' in refused.content.decode()  # the officer's input is kept
    line.refresh_from_db()
    assert line.amount == Decimal("6800.00")

    # Having seen the message, a second save overwrites on purpose.
    form_version = refused.context["adminform"].form["expected_version"].value()
    assert int(form_version) == line.version
    assert post_line(client, line, "6.900,00", form_version).status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("6900.00")


def test_a_change_is_kept_with_who_when_old_and_new_and_can_be_reverted(persona, client, line):
    client.force_login(persona("koordinator"))
    assert post_line(client, line, "7000.00", line.version).status_code == 302
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
    assert client.get(revert_url).status_code == 200
    response = post_line_to(client, revert_url, line, "6721.00")
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("6721.00")
    assert line.history.count() == 3  # created, changed, reverted


def post_line_to(client, target, line, amount, expected_version=None):
    """Post the line's form (change or history form) with a new amount."""
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
    assert post_line(client, line, "7.000,00", line.version).status_code == 302
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
    assert post_line_to(client, revert_url, line, "6721.00").status_code == 302
    records = list(line.history.order_by("history_date", "history_id"))
    assert [
        (r.history_type, r.amount, getattr(r.history_user, "username", None)) for r in records
    ] == [
        ("+", Decimal("6721.00"), None),  # created by load_demo
        ("~", Decimal("7000.00"), "koordinator"),
        ("~", Decimal("7100.00"), "admin"),  # the import, recorded with who ran it
        ("~", Decimal("6721.00"), "koordinator"),  # the revert
    ]
