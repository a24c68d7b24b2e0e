"""Every write path keeps the strategy's and the budget's rules — driven through the real pages.

Regression tests for what reviewers did through the admin on PostgreSQL: an import rewrote an
adopted line, the second of two saves silently won, a history revert failed, a share saved on
its own page broke the key, items stopped adding up to their line, and money rules were
by-passed by two new rows in one save.
"""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from funding.adoption import revision_open, revision_propose
from funding.models import (
    Allocation,
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    MunicipalBudgetItem,
    Reallocation,
    StrategyShare,
)
from tests.factories import unpublished
from tests.funding.conftest import PROPOSED
from tests.pages import admin_change_form, forms_of

pytestmark = pytest.mark.django_db

ADOPTED_ROW = "kras-2025-2029;2025;po-moc;Materialni stroški programa;9999,00\n"
LINE_HEADER = "strategija;leto;društvo;kategorija;znesek\n"


def po_moc_line(category="programme_material", year=2025) -> BudgetLine:
    return BudgetLine.objects.get(
        strategy__slug="kras-2025-2029", association__slug="po-moc", category=category, year=year
    )


def line_with_items() -> BudgetLine:
    return BudgetLine.objects.filter(strategy__slug="kras-2025-2029", items__isnull=False)[0]


def snapshot() -> list:
    """Every amount of the strategy's lines and items, to show that nothing was written."""
    return [
        *BudgetLine.objects.order_by("pk").values_list("pk", "amount", "note"),
        *BudgetItem.objects.order_by("pk").values_list("pk", "line_id", "amount", "description"),
    ]


def sl(text) -> str:
    with translation.override("sl"):
        return str(text)


# --- 1. Imports keep the adoption lock -------------------------------------------------------


@pytest.mark.parametrize("state", ["in_force", "proposed"])
def test_the_line_import_refuses_a_line_of_an_adopted_or_proposed_strategy(
    state, request, tmp_path
):
    request.getfixturevalue(state)
    before = snapshot()
    source = tmp_path / "vrstice.csv"
    source.write_text(LINE_HEADER + ADOPTED_ROW, encoding="utf-8")
    errors = io.StringIO()
    with pytest.raises(CommandError), translation.override("sl"):
        call_command(
            "import_budget_lines",
            str(source),
            "--user",
            "admin",
            stdout=io.StringIO(),
            stderr=errors,
        )
    message = errors.getvalue()
    assert "Vrstica 2" in message
    assert "kras-2025-2029" in message
    assert ("sprememb" in message) if state == "in_force" else ("predlagan" in message)
    assert snapshot() == before
    assert po_moc_line().amount == Decimal("6721.00")


def test_the_item_import_refuses_to_replace_the_items_of_an_adopted_line(in_force, tmp_path):
    line = BudgetLine.objects.get(
        strategy__slug="kras-2025-2029", association__slug="vezi", category="staff", year=2025
    )
    items = list(line.items.all())
    assert len(items) == 2
    before = snapshot()
    source = tmp_path / "postavke.csv"
    source.write_text(
        "strategija;leto;društvo;kategorija;delovno mesto;znesek\n"
        f"kras-2025-2029;2025;vezi;Stroški zaposlenih;Ena sama postavka;"
        f"{str(line.amount).replace('.', ',')}\n",
        encoding="utf-8",
    )
    errors = io.StringIO()
    with pytest.raises(CommandError), translation.override("sl"):
        call_command(
            "import_budget_lines",
            str(source),
            "--items",
            "--user",
            "admin",
            stdout=io.StringIO(),
            stderr=errors,
        )
    assert "Vrstica 2" in errors.getvalue() and "sprememb" in errors.getvalue()
    assert snapshot() == before


def test_the_admin_import_refuses_an_adopted_line_row_by_row(in_force, persona, client, tmp_path):
    before = snapshot()
    client.force_login(persona("koordinator"))
    form = forms_of(client, reverse("admin:funding_budgetline_import"))
    import_form = next(f for f in form if "import_file" in f.names)
    csv_format = next(v for v in import_form.options("format") if v)
    import_form.set("format", csv_format)
    upload = tmp_path / "vrstice.csv"
    upload.write_text(LINE_HEADER + ADOPTED_ROW, encoding="utf-8")
    with upload.open("rb") as handle:
        response = import_form.submit(files={"import_file": handle})
    page = response.content.decode()
    assert response.status_code == 200
    assert "v veljavi" in page
    assert "process_import" not in page and 'name="import_file_name"' not in page
    assert snapshot() == before


# --- 2. Lost updates ----------------------------------------------------------------------------


def test_the_second_of_two_sessions_saving_a_line_is_refused(demo, persona, client):
    line = po_moc_line()
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    client.force_login(persona("koordinator"))
    first = admin_change_form(client, url)
    second = admin_change_form(client, url)  # the second tab opens before the first saves
    assert "expected_version" in first.names

    assert first.set("amount", "6.800,00").submit("_save").status_code == 302
    refused = second.set("amount", "6.900,00").submit("_save")
    assert refused.status_code == 200
    assert "Nič ni bilo shranjeno" in refused.content.decode()
    line.refresh_from_db()
    assert line.amount == Decimal("6800.00")


def test_a_form_without_its_version_is_refused(demo, persona, client):
    line = po_moc_line()
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    client.force_login(persona("koordinator"))
    form = admin_change_form(client, url).set("amount", "6.800,00")
    form.values.pop("expected_version")  # a page from before versions, or a hand-made post
    response = form.submit("_save")
    assert response.status_code == 200
    line.refresh_from_db()
    assert line.amount == Decimal("6721.00")


def test_the_second_coordinator_saving_the_strategy_page_does_not_undo_the_first(
    demo, persona, client
):
    url = reverse("admin:funding_fundingstrategy_change", args=[demo.pk])
    client.force_login(persona("koordinator"))
    first = admin_change_form(client, url)
    second = admin_change_form(client, url)
    shares = {first[f"shares-{i}-municipality"]: i for i in range(int(first["shares-TOTAL_FORMS"]))}
    sezana = next(i for pk, i in shares.items() if int(pk) == demo.lead_municipality_id)
    komen = next(
        i
        for pk, i in shares.items()
        if StrategyShare.objects.get(strategy=demo, municipality_id=pk).municipality.slug == "komen"
    )
    first.set(f"shares-{sezana}-share_percent", "50,77")
    first.set(f"shares-{komen}-share_percent", "15,33")
    assert first.submit("_save").status_code == 302

    refused = second.set("key_source", "Dogovor z dne 8. 5. 2002").submit("_save")
    assert refused.status_code == 200
    assert "Nič ni bilo shranjeno" in refused.content.decode()
    demo.refresh_from_db()
    assert demo.key_source != "Dogovor z dne 8. 5. 2002"
    assert StrategyShare.objects.get(strategy=demo, municipality__slug="komen").share_percent == (
        Decimal("15.33")
    )


# --- 3. History revert ------------------------------------------------------------------------


def test_reverting_a_line_through_its_history_page_saves_the_old_amount(demo, persona, client):
    line = po_moc_line()
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    assert admin_change_form(client, url).set("amount", "7.000,00").submit("_save").status_code
    created = line.history.earliest("history_date")
    revert_url = reverse(
        "admin:funding_budgetline_simple_history", args=[line.pk, created.history_id]
    )
    response = admin_change_form(client, revert_url).submit("_save")
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("6721.00")


# --- 4. The key adds up to 100,00 % on every path ----------------------------------------------


def test_a_share_changed_on_its_own_page_cannot_leave_the_key_off_100(demo, persona, client):
    share = StrategyShare.objects.get(strategy=demo, municipality__slug="sezana")
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_strategyshare_change", args=[share.pk])
    response = admin_change_form(client, url).set("share_percent", "60,00").submit("_save")
    assert response.status_code == 200
    assert "109,22" in response.content.decode()
    share.refresh_from_db()
    assert share.share_percent == Decimal("50.78")
    assert demo.key_total() == Decimal("100.00")


def test_a_share_added_on_its_own_page_cannot_leave_the_key_off_100(demo, persona, client):
    client.force_login(persona("admin"))
    url = reverse("admin:funding_strategyshare_add")
    form = admin_change_form(client, url)
    other = FundingStrategy.objects.exclude(pk=demo.pk).first()
    assert other is None or other.shares.exists()
    form.set("strategy", demo.pk)
    form.set("municipality", StrategyShare.objects.filter(strategy=demo)[0].municipality_id)
    form.set("share_percent", "1,00")
    response = form.submit("_save")
    assert response.status_code == 200
    assert demo.shares.count() == 4
    assert demo.key_total() == Decimal("100.00")


def test_reverting_a_share_through_history_cannot_leave_the_key_off_100(demo, persona, client):
    # The key changes as a whole on the strategy page; reverting one share alone would break it.
    client.force_login(persona("koordinator"))
    strategy_url = reverse("admin:funding_fundingstrategy_change", args=[demo.pk])
    form = admin_change_form(client, strategy_url)
    rows = {
        StrategyShare.objects.get(pk=form[f"shares-{i}-id"]).municipality.slug: i
        for i in range(int(form["shares-TOTAL_FORMS"]))
    }
    form.set(f"shares-{rows['sezana']}-share_percent", "50,77")
    form.set(f"shares-{rows['komen']}-share_percent", "15,33")
    assert form.submit("_save").status_code == 302

    share = StrategyShare.objects.get(strategy=demo, municipality__slug="sezana")
    original = share.history.earliest("history_date")
    revert_url = reverse(
        "admin:funding_strategyshare_simple_history", args=[share.pk, original.history_id]
    )
    response = admin_change_form(client, revert_url).submit("_save")
    assert response.status_code == 200
    share.refresh_from_db()
    assert share.share_percent == Decimal("50.77")
    assert demo.key_total() == Decimal("100.00")


def test_the_strategy_page_refuses_a_key_off_100(demo, persona, client):
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_fundingstrategy_change", args=[demo.pk])
    form = admin_change_form(client, url)
    form.set("shares-0-share_percent", "60,00")
    response = form.submit("_save")
    assert response.status_code == 200
    assert "ne 100,00" in response.content.decode()
    assert demo.key_total() == Decimal("100.00")


@pytest.mark.parametrize(
    "name, args",
    [
        ("reports:cost-sharing", ["2025"]),
        ("reports:cost-sharing-file", ["2025", "pdf"]),
        ("reports:cost-sharing-file", ["2025", "csv"]),
        ("reports:cost-sharing-file", ["2025", "xlsx"]),
        ("reports:projection", []),
        ("reports:strategy-annex", []),
    ],
)
@pytest.mark.parametrize("damage", ["no_shares", "off_100"])
def test_documents_of_a_strategy_with_an_incomplete_key_say_so(
    demo, persona, client, name, args, damage
):
    if damage == "no_shares":
        strategy = FundingStrategy.objects.create(
            slug="brez-kljuca", title="Strategija brez ključa", start_year=2025, end_year=2026
        )
        client.force_login(persona("admin"))
    else:
        # A key broken before this rule existed (e.g. a database of an earlier release).
        StrategyShare.objects.filter(strategy=demo, municipality__slug="sezana").update(
            share_percent=Decimal("60.00")
        )
        strategy = demo
        client.force_login(persona("koordinator"))
    response = client.get(reverse(name, args=[strategy.slug, *args]))
    assert response.status_code == 409
    page = response.content.decode()
    assert "ključ" in page.lower()
    if damage == "off_100":
        assert "109,22" in page


def test_the_strategy_list_flags_a_strategy_whose_key_is_incomplete(demo, persona, client):
    FundingStrategy.objects.create(
        slug="brez-kljuca", title="Strategija brez ključa", start_year=2025, end_year=2026
    )
    client.force_login(persona("admin"))
    page = client.get(reverse("admin:funding_fundingstrategy_changelist")).content.decode()
    assert "ključ ni popoln" in page.lower()


# --- 5. Items add up to their line on every path -----------------------------------------------


def test_an_item_changed_on_its_own_page_must_still_add_up_to_its_line(demo, persona, client):
    line = line_with_items()
    item = line.items.first()
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_budgetitem_change", args=[item.pk])
    response = admin_change_form(client, url).set("amount", "1,00").submit("_save")
    assert response.status_code == 200
    item.refresh_from_db()
    assert line.items_total() == line.amount


def test_an_item_added_on_its_own_page_must_still_add_up_to_its_line(demo, persona, client):
    line = line_with_items()
    count = line.items.count()
    client.force_login(persona("koordinator"))
    form = admin_change_form(client, reverse("admin:funding_budgetitem_add"))
    form.set("line", line.pk).set("description", "Nova postavka").set("amount", "100,00")
    response = form.submit("_save")
    assert response.status_code == 200
    assert line.items.count() == count
    assert line.items_total() == line.amount


def test_an_item_cannot_be_deleted_on_its_own_page_when_its_line_would_not_add_up(
    demo, persona, client
):
    line = line_with_items()
    item = line.items.first()
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_budgetitem_delete", args=[item.pk])
    confirm = [f for f in forms_of(client, url) if f.method == "post"][-1]
    response = confirm.submit(follow=True)
    assert response.status_code == 200
    assert "Vrstica in njene postavke se spreminjajo skupaj" in response.content.decode()
    assert BudgetItem.objects.filter(pk=item.pk).exists()
    assert line.items_total() == line.amount


def test_items_and_shares_are_not_offered_for_bulk_delete(demo, persona, client):
    line = line_with_items()
    item = line.items.first()
    client.force_login(persona("koordinator"))
    for name in ("budgetitem", "strategyshare"):
        page = client.get(reverse(f"admin:funding_{name}_changelist"))
        assert page.status_code == 200
        assert 'value="delete_selected"' not in page.content.decode()
    # Lines may still be deleted in bulk: their items go with them.
    page = client.get(reverse("admin:funding_budgetline_changelist")).content.decode()
    assert 'value="delete_selected"' in page
    assert BudgetItem.objects.filter(pk=item.pk).exists()


def test_the_line_page_changes_items_and_amount_together(demo, persona, client):
    line = line_with_items()
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    form = admin_change_form(client, url)
    first = Decimal(form["items-0-amount"].replace(".", "").replace(",", "."))
    form.set("items-0-amount", str(first + 1).replace(".", ","))
    form.set("amount", str(line.amount + 1).replace(".", ","))
    assert form.submit("_save").status_code == 302
    line.refresh_from_db()
    assert line.items_total() == line.amount


# --- 7. Money of a municipal budget item --------------------------------------------------------


@pytest.fixture
def velenje_items(demo):
    las = MunicipalBudgetItem.objects.get(name="LAS – Program za boj proti drogi")
    mc = MunicipalBudgetItem.objects.get(name="Mladinski center Velenje")
    # Adopted so that 30.383,79 is available: 25.883,79 spent and 4.500,00 moved to MC Velenje.
    MunicipalBudgetItem.objects.filter(pk=las.pk).update(adopted_amount=Decimal("30383.79"))
    MunicipalBudgetItem.objects.filter(pk=mc.pk).update(adopted_amount=Decimal("0.00"))
    las.refresh_from_db()
    mc.refresh_from_db()
    # Velenje's published report shows these items, which then cannot change
    # (programs.publication): the money rules are tested as before its publication.
    with unpublished(las.annual_reports.get()):
        yield las, mc


def test_a_reallocation_out_beyond_what_is_available_is_refused(velenje_items, persona, client):
    las, _mc = velenje_items
    client.force_login(persona("uradnik.velenje"))
    url = reverse("admin:funding_municipalbudgetitem_change", args=[las.pk])
    form = admin_change_form(client, url)
    form.set("reallocations_out-0-amount", "4.500,01")
    response = form.submit("_save")
    assert response.status_code == 200
    assert "30.383,80" in response.content.decode()
    assert Reallocation.objects.get(source=las).amount == Decimal("4500.00")


def test_two_new_allocations_in_one_save_cannot_exceed_the_item(velenje_items, persona, client):
    las, _mc = velenje_items
    MunicipalBudgetItem.objects.filter(pk=las.pk).update(adopted_amount=Decimal("30400.00"))
    count = las.allocations.count()
    client.force_login(persona("uradnik.velenje"))
    url = reverse("admin:funding_municipalbudgetitem_change", args=[las.pk])
    form = admin_change_form(client, url)
    form.add_inline_row("allocations", recipient="Prvi", realised_amount="10,00")
    form.add_inline_row("allocations", recipient="Drugi", realised_amount="10,00")
    response = form.submit("_save")
    assert response.status_code == 200
    assert "30.403,79" in response.content.decode()
    assert las.allocations.count() == count


def test_one_save_may_move_money_between_two_allocations(velenje_items, persona, client):
    las, _mc = velenje_items
    client.force_login(persona("uradnik.velenje"))
    url = reverse("admin:funding_municipalbudgetitem_change", args=[las.pk])
    form = admin_change_form(client, url)
    # 18.500,00 → 18.400,00 and 2.187,36 → 2.287,36: the total stays at what is available.
    form.set("allocations-0-realised_amount", "18.400,00")
    form.set("allocations-1-realised_amount", "2.287,36")
    assert form.submit("_save").status_code == 302
    assert sorted(las.allocations.values_list("realised_amount", flat=True))[-2:] == [
        Decimal("2287.36"),
        Decimal("18400.00"),
    ]


def test_an_allocation_on_its_own_page_cannot_exceed_the_item(velenje_items, persona, client):
    las, _mc = velenje_items
    allocation = las.allocations.get(recipient="Neodvisen TV")
    client.force_login(persona("uradnik.velenje"))
    url = reverse("admin:funding_allocation_change", args=[allocation.pk])
    response = admin_change_form(client, url).set("realised_amount", "1.200,01").submit("_save")
    assert response.status_code == 200
    assert Allocation.objects.get(pk=allocation.pk).realised_amount == Decimal("1200.00")


# --- The database holds what it can --------------------------------------------------------------


def test_the_database_refuses_to_change_a_revision_in_force_or_its_adoptions(in_force):
    from django.db import IntegrityError, transaction

    from funding.models import StrategyAdoption, StrategyRevision

    with pytest.raises(IntegrityError), transaction.atomic():
        StrategyRevision.objects.filter(pk=in_force.pk).update(document="{}")
    with pytest.raises(IntegrityError), transaction.atomic():
        StrategyAdoption.objects.filter(revision=in_force).update(resolution_number="X")
    in_force.refresh_from_db()
    assert in_force.document != "{}"
    assert not StrategyAdoption.objects.filter(resolution_number="X").exists()


def test_a_strategy_whose_key_is_incomplete_cannot_be_proposed(demo):
    from django.core.exceptions import ValidationError

    StrategyShare.objects.filter(strategy=demo, municipality__slug="sezana").update(
        share_percent=Decimal("60.00")
    )
    with pytest.raises(ValidationError) as refused:
        revision_propose(revision=revision_open(strategy=demo), proposed_on=PROPOSED)
    assert "109,22" in sl(refused.value.messages[0])
    assert not demo.revisions.exclude(status="draft").exists()


def test_a_note_longer_than_a_spreadsheet_cell_is_refused_on_the_page(demo, persona, client):
    line = po_moc_line()
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    response = admin_change_form(client, url).set("note", "x" * 32_768).submit("_save")
    assert response.status_code == 200
    assert "32767" in response.content.decode() or "32.767" in response.content.decode()
    line.refresh_from_db()
    assert len(line.note) < 32_768
