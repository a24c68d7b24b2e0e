"""The demo data matches the seed document and its published 2025 table."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from funding.models import BudgetItem, BudgetLine, FundingStrategy, Membership, StrategyShare
from programs.models import Association, Programme

REFERENCE = Path(__file__).parents[2] / "fixtures" / "reference"
PUBLISHED = REFERENCE / "kras-2025-cost-sharing-as-published.csv"


def published_rows():
    with PUBLISHED.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def line_amount(strategy, association_short_name, category_label):
    lines = [
        line
        for line in strategy.lines.filter(year=2025, association__short_name=association_short_name)
        if line.exchange_category == category_label
    ]
    assert len(lines) == 1, (association_short_name, category_label)
    return lines[0].amount


pytestmark = pytest.mark.django_db


def test_the_key_is_the_one_of_the_agreement_of_8_may_2002(demo):
    shares = [
        (share.municipality.name, share.share_percent)
        for share in StrategyShare.objects.filter(strategy=demo).select_related("municipality")
    ]
    assert shares == [
        ("Občina Sežana", Decimal("50.78")),
        ("Občina Divača", Decimal("16.35")),
        ("Občina Hrpelje-Kozina", Decimal("17.55")),
        ("Občina Komen", Decimal("15.32")),
    ]
    assert demo.key_total() == Decimal("100.00")
    assert "8. maja 2002" in demo.key_source


def test_every_published_line_total_matches_exactly(demo):
    line_rows = [row for row in published_rows() if row["line"]]
    assert len(line_rows) == 8
    for row in line_rows:
        amount = line_amount(demo, row["association"], row["line"])
        assert amount == Decimal(row["total_eur"]), row
    assert demo.lines.count() == 8


def test_every_published_association_total_matches_the_sum_of_its_lines(demo):
    association_rows = [
        row for row in published_rows() if not row["line"] and row["association"] != "SKUPAJ OBČINE"
    ]
    assert [row["association"] for row in association_rows] == [
        membership.association.short_name for membership in demo.strategy_associations.all()
    ]
    for row in association_rows:
        total = sum(
            line.amount
            for line in demo.lines.filter(year=2025, association__short_name=row["association"])
        )
        assert total == Decimal(row["total_eur"]), row


def test_the_grand_total_is_194630(demo):
    grand = next(row for row in published_rows() if row["association"] == "SKUPAJ OBČINE")
    assert grand["total_eur"] == "194630"
    assert sum(line.amount for line in demo.lines.filter(year=2025)) == Decimal("194630.00")


@pytest.mark.parametrize(
    ("association", "category", "items"),
    [
        (
            "rk-sezana",
            "Stroški zaposlenih",
            [(43, "60.00", "24383.00"), (28, "100.00", "27055.00")],
        ),
        (
            "mdpm-sezana",
            "Stroški zaposlenih",
            [(35, "100.00", "31154.00"), (34, "50.00", "16015.00")],
        ),
        ("vezi", "Stroški zaposlenih", [(34, "100.00", "31968.00"), (26, "50.00", "15000.00")]),
    ],
)
def test_staff_lines_are_the_sum_of_their_positions(demo, association, category, items):
    line = next(
        line
        for line in BudgetLine.objects.filter(strategy=demo, association__slug=association)
        if line.exchange_category == category
    )
    stored = [
        (item.pay_grade, f"{item.share_percent:.2f}", f"{item.amount:.2f}")
        for item in line.items.all()
    ]
    assert stored == items
    assert line.items_total() == line.amount


def test_the_in_kind_support_becomes_three_footnotes_of_sezana(demo):
    supports = list(demo.in_kind_support.select_related("municipality", "association"))
    assert [(s.municipality.slug, s.association.slug, s.address) for s in supports] == [
        ("sezana", "po-moc", "Ulica 1. maja 1, Sežana"),
        ("sezana", "vezi", "Štorje 26"),
        ("sezana", "mdpm-sezana", "Bazoviška cesta 11, Sežana"),
    ]


def test_mayors_and_statuses_are_those_of_the_document(demo):
    mayors = {
        share.municipality.slug: (share.municipality.mayor_name, share.municipality.mayor_title)
        for share in demo.shares.select_related("municipality")
    }
    assert mayors == {
        "sezana": ("Andrej Sila", "zupan"),
        "divaca": ("Alenka Štrucl Dovgan", "zupanja"),
        "hrpelje-kozina": ("Saša Likavec Svetelšek", "zupanja"),
        "komen": ("mag. Erik Modic", "zupan"),
    }
    po_moc = Association.objects.get(slug="po-moc")
    assert po_moc.legal_status == Association.LegalStatus.NGO_PUBLIC_INTEREST
    assert po_moc.status_granted_on.isoformat() == "2019-08-14"
    assert Association.objects.get(slug="rk-sezana").legal_status == "humanitarian_by_law"
    programme = Programme.objects.get(association=po_moc)
    assert programme.verified_until.isoformat() == "2028-10-31"
    assert sorted(f.short_name for f in programme.other_funders.all()) == ["MDDSZEM", "NIJZ"]
    assert Programme.objects.filter(association__slug="vezi").count() == 4


def test_load_demo_twice_duplicates_nothing(demo, settings):
    def counts():
        return (BudgetLine.objects.count(), BudgetItem.objects.count(), Programme.objects.count())

    settings.DEBUG = True
    # The full demo, as ``make run`` loads it: 2026–2029 derived from the 2025 lines.
    call_command("load_demo", stdout=io.StringIO())
    first = counts()
    call_command("load_demo", stdout=io.StringIO())
    assert FundingStrategy.objects.count() == 1
    assert (
        counts()
        == first
        # 8 lines with 6 items in each of 5 years; programmes: 18 in the Kras strategy, 1 in
        # Kranj, 2 of NOVUS
        == (40, 30, 21)
    )
    assert Membership.objects.filter(user__username="uradnik.komen").count() == 1


def test_load_demo_is_refused_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("load_demo", stdout=io.StringIO())
    assert FundingStrategy.objects.count() == 0


def test_each_demo_persona_can_log_in_with_the_documented_password(demo, client):
    from tests.conftest import PERSONAS

    for username in PERSONAS:
        # django-axes checks every authentication against its lockouts, which needs a request.
        request = RequestFactory().post("/admin/login/")
        assert client.login(request=request, username=username, password="demo"), username
