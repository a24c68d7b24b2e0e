"""A strategy from draft through the councils' adoptions into force, frozen, and amended."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from funding.adoption import (
    revision_annex_pdf,
    revision_open,
    revision_propose,
    revision_status_label,
    revision_withdraw,
    sha256,
)
from funding.exchange import parse_strategy_document, strategy_json
from funding.models import (
    BudgetLine,
    FundingStrategy,
    Municipality,
    StrategyAdoption,
    StrategyRevision,
)
from funding.projection import projection_derive
from funding.services import strategy_import
from tests.funding.conftest import COUNCILS, PROPOSED, adopt
from tests.pages import admin_change_form

pytestmark = pytest.mark.django_db


def base_line(strategy) -> BudgetLine:
    return BudgetLine.objects.get(
        strategy=strategy, association__slug="po-moc", category="programme_material", year=2025
    )


def messages_of(error: ValidationError) -> str:
    with translation.override("sl"):
        return " ".join(error.messages)


def test_it_takes_effect_when_the_last_council_adopts_it(proposed):
    with translation.override("sl"):
        assert revision_status_label(proposed) == "predlagana 20. 11. 2024"
    for count, (slug, date, number) in enumerate(COUNCILS[:3], start=1):
        adopt(proposed, slug, date, number)
        proposed.refresh_from_db()
        assert proposed.status == StrategyRevision.Status.PROPOSED
        with translation.override("sl"):
            assert revision_status_label(proposed) == f"sprejeli {count} od 4 občinskih svetov"
    assert proposed.document == ""

    adopt(proposed, *COUNCILS[3])
    proposed.refresh_from_db()
    assert proposed.status == StrategyRevision.Status.IN_FORCE
    assert proposed.in_force_on == datetime.date(2024, 12, 19)  # the last council's session
    assert proposed.document == strategy_json(proposed.strategy)
    assert proposed.document_sha256 == sha256(proposed.document)
    assert len(proposed.annex_sha256) == 64
    with translation.override("sl"):
        assert revision_status_label(proposed) == "v veljavi od 19. 12. 2024"


def test_regenerating_the_adopted_annex_gives_the_same_document(in_force, persona, client):
    # The later years are derived after adoption (allowed in force) and the live texts change:
    # the annex of the adopted version is still the one whose hash was stored on adoption.
    derived = projection_derive(strategy=in_force.strategy)
    assert sorted(derived) == [2026, 2027, 2028, 2029]
    FundingStrategy.objects.filter(pk=in_force.strategy_id).update(introduction="Spremenjeno.")
    assert sha256(bytes(in_force.annex_pdf)) == in_force.annex_sha256
    assert sha256(revision_annex_pdf(in_force)) == in_force.annex_sha256
    assert not FundingStrategy.objects.filter(slug__startswith="frozen-revision-").exists()

    client.force_login(persona("referent.sezana"))
    for url in (
        reverse("reports:strategy-annex", args=[in_force.strategy.slug]),
        reverse("reports:revision-annex", args=[in_force.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert sha256(response.content) == in_force.annex_sha256
        assert response["X-Content-SHA256"] == in_force.annex_sha256


@pytest.mark.parametrize(
    ("slug", "date", "field", "message"),
    [
        ("komen", datetime.date(2024, 11, 19), "date", "pred predlogom 20. 11. 2024"),
        ("velenje", datetime.date(2024, 12, 1), "municipality", "ne sodeluje v strategiji"),
        ("komen", datetime.date(2099, 1, 1), "date", "v prihodnosti"),
    ],
)
def test_a_bad_adoption_is_refused_and_nothing_is_written(proposed, slug, date, field, message):
    with pytest.raises(ValidationError) as refused:
        adopt(proposed, slug, date)
    assert field in refused.value.message_dict
    assert message in messages_of(refused.value)
    assert not StrategyAdoption.objects.exists()


def test_a_draft_cannot_be_adopted_and_a_council_adopts_only_once(demo, proposed):
    revision_withdraw(revision=proposed)
    with pytest.raises(ValidationError) as refused:
        adopt(proposed, "komen", datetime.date(2024, 12, 10))
    assert "še ni bila predlagana" in messages_of(refused.value)

    revision_propose(revision=proposed, proposed_on=PROPOSED)
    adopt(proposed, "komen", datetime.date(2024, 12, 10))
    with pytest.raises(ValidationError):
        adopt(proposed, "komen", datetime.date(2024, 12, 11))
    assert StrategyAdoption.objects.count() == 1
    with pytest.raises(ValidationError) as refused:
        revision_withdraw(revision=proposed)
    assert "Občina Komen" in messages_of(refused.value)


def test_a_proposal_does_not_change_while_the_councils_decide(proposed):
    line = base_line(proposed.strategy)
    line.amount = Decimal("1.00")
    with pytest.raises(ValidationError) as refused:
        line.full_clean()
    assert "predlagana občinskim svetom" in messages_of(refused.value)


def test_the_adopted_version_cannot_be_edited(in_force):
    strategy = in_force.strategy
    line = base_line(strategy)
    line.amount = Decimal("1.00")
    with pytest.raises(ValidationError) as refused:
        line.full_clean()
    assert "je v veljavi od 19. 12. 2024" in messages_of(refused.value)

    in_force.reason = "tampered"
    with pytest.raises(ValidationError):
        in_force.save()
    with pytest.raises(ValidationError):
        in_force.adoptions.first().delete()
    with pytest.raises(ValidationError):
        in_force.delete()
    with pytest.raises(ValidationError):
        strategy_import(document=parse_strategy_document(in_force.document))
    in_force.refresh_from_db()
    assert in_force.reason == ""
    assert in_force.adoptions.count() == 4
    assert base_line(strategy).amount == Decimal("6721.00")


def test_the_admin_shows_an_adopted_line_read_only_and_refuses_a_post(in_force, persona, client):
    line = base_line(in_force.strategy)
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_budgetline_change", args=[line.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="amount"' not in page.content.decode()  # shown, not editable
    # Forged: the page offers no amount to type, but an attacker could post one by hand.
    forged = {"amount": "1,00", "expected_version": line.version}
    client.post(url, forged)
    assert base_line(in_force.strategy).amount == Decimal("6721.00")


def test_an_amendment_has_its_own_adoption_and_the_diff_shows_it(in_force, persona, client):
    strategy = in_force.strategy
    with pytest.raises(ValidationError) as refused:
        revision_open(strategy=strategy)
    assert "reason" in refused.value.message_dict

    amendment = revision_open(strategy=strategy, reason="Višji materialni stroški PO MOČ.")
    assert amendment.number == 2
    line = base_line(strategy)
    line.amount = Decimal("7721.00")  # +1,000.00
    line.full_clean()
    line.save()

    client.force_login(persona("svetnik.sezana"))
    page = client.get(reverse("reports:strategy-changes", args=[strategy.slug]))
    assert page.status_code == 200
    changes = page.context["changes"]
    [change] = changes.lines
    assert (change.adopted, change.current, change.difference) == (
        Decimal("6721.00"),
        Decimal("7721.00"),
        Decimal("1000.00"),
    )
    # Each municipality's change is its share of the published tables; together the whole.
    assert sum(change.cells) == Decimal("1000")
    assert change.cells[0] == Decimal("508")  # Sežana 50.78 %
    [year] = changes.years
    assert year.difference == Decimal("1000")
    assert sum(year.cell_differences) == Decimal("1000")
    text = page.content.decode()
    assert "6.721,00" in text and "7.721,00" in text and "1.000,00" in text

    revision_propose(revision=amendment, proposed_on=datetime.date(2025, 3, 1))
    for slug, _date, number in COUNCILS:
        adopt(amendment, slug, datetime.date(2025, 3, 20), number)
    amendment.refresh_from_db()
    assert amendment.status == StrategyRevision.Status.IN_FORCE
    assert json.loads(amendment.document)["associations"][0]["lines"][1]["amount"] == "7721.00"
    page = client.get(reverse("reports:strategy-changes", args=[strategy.slug]))
    assert page.context["changes"].unchanged


def test_an_amendment_cannot_be_proposed_before_the_strategy_came_into_force(in_force):
    amendment = revision_open(strategy=in_force.strategy, reason="Popravek.")
    with pytest.raises(ValidationError) as refused:
        revision_propose(revision=amendment, proposed_on=datetime.date(2024, 12, 1))
    assert "proposed_on" in refused.value.message_dict
    amendment.refresh_from_db()
    assert amendment.status == StrategyRevision.Status.DRAFT


def test_the_coordinator_records_an_adoption_in_the_admin_and_bad_dates_are_named(
    proposed, persona, client
):
    client.force_login(persona("koordinator"))
    url = reverse("admin:funding_strategyadoption_add")
    komen = Municipality.objects.get(slug="komen")
    form = admin_change_form(client, url)
    assert form.options("revision") == ["", str(proposed.pk)]
    form.set("revision", proposed.pk).set("municipality", komen.pk)
    form.set("date", "1. 11. 2024").set("session", "12. redna seja")
    form.set("resolution_number", "410-0021/2024-4")
    refused = form.submit("_save")
    assert refused.status_code == 200
    with translation.override("sl"):
        errors = refused.context["adminform"].form.errors["date"]
    assert "pred predlogom 20. 11. 2024" in errors[0]
    assert not StrategyAdoption.objects.exists()

    # The refused page keeps what was typed; only the date is corrected.
    again = admin_change_form(client, url, response=refused)
    assert again["municipality"] == str(komen.pk)
    assert again.set("date", "10. 12. 2024").submit("_save").status_code == 302
    assert StrategyAdoption.objects.get().municipality == komen


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("koordinator", 200),
        ("uradnik.komen", 200),
        ("svetnik.sezana", 200),
        ("referent.sezana", 200),
        # Another municipality's officer: not found, as a strategy that does not exist.
        ("uradnik.velenje", 404),
        ("zunanji", 403),
    ],
)
def test_the_changes_page_is_for_the_strategys_readers(in_force, persona, client, username, status):
    client.force_login(persona(username))
    page = client.get(reverse("reports:strategy-changes", args=[in_force.strategy.slug]))
    assert page.status_code == status


def test_only_the_coordinator_records_adoptions(proposed, persona, client):
    for username in ("uradnik.komen", "svetnik.sezana", "referent.sezana"):
        client.force_login(persona(username))
        assert client.get(reverse("admin:funding_strategyadoption_add")).status_code == 403


def test_the_demo_strategy_is_in_force_after_four_adoptions(db, settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    revision = StrategyRevision.objects.get(strategy__slug="kras-2025-2029")
    assert revision.status == StrategyRevision.Status.IN_FORCE
    assert revision.adoptions.count() == 4
    assert revision.in_force_on == datetime.date(2024, 12, 19)
    # Loading the demo again replaces it rather than failing on the frozen strategy.
    call_command("load_demo", stdout=io.StringIO())
    assert StrategyRevision.objects.filter(strategy__slug="kras-2025-2029").count() == 1
