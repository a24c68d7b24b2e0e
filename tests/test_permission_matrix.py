"""Every role × strategy model × admin action, including URLs guessed into another strategy.

Besides the demo strategy (led by Sežana, all four municipalities), a second strategy is led by
Komen with Komen and Divača only: Sežana's people must not see it at all, Komen's officer may
read it, and only a superuser may change it (the demo coordinator belongs to Sežana).
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from funding.models import (
    BudgetCategory,
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    InKindSupport,
    Municipality,
    StrategyAssociation,
    StrategyShare,
)
from programs.models import Association

pytestmark = pytest.mark.django_db

# persona: (sees the demo strategy, changes it, adds, sees Komen's strategy)
RIGHTS = {
    "admin": (True, True, True, True),
    "koordinator": (True, True, True, False),
    "uradnik.sezana": (True, False, False, False),
    "uradnik.komen": (True, False, False, True),
    "svetnik.sezana": (True, False, False, False),
    "referent.sezana": (True, False, False, False),
}
MODELS = ["fundingstrategy", "strategyshare", "budgetline", "budgetitem", "inkindsupport"]


@pytest.fixture
def komen_strategy(demo):
    komen, divaca = (Municipality.objects.get(slug=s) for s in ("komen", "divaca"))
    strategy = FundingStrategy.objects.create(
        slug="komen-2026",
        title="Strategija Komen",
        start_year=2026,
        end_year=2027,
        lead_municipality=komen,
    )
    StrategyShare.objects.create(strategy=strategy, municipality=komen, share_percent=60)
    StrategyShare.objects.create(strategy=strategy, municipality=divaca, share_percent=40)
    association = Association.objects.get(slug="rk-sezana")
    StrategyAssociation.objects.create(strategy=strategy, association=association)
    line = BudgetLine.objects.create(
        strategy=strategy,
        association=association,
        year=2026,
        category=BudgetCategory.STAFF,
        amount=Decimal("100.00"),
    )
    BudgetItem.objects.create(line=line, description="tajnica", amount=Decimal("100.00"))
    InKindSupport.objects.create(
        strategy=strategy, municipality=komen, association=association, description="prostor"
    )
    return strategy


def objects_of(strategy):
    line = strategy.lines.order_by("pk").first()
    return {
        "fundingstrategy": strategy,
        "strategyshare": strategy.shares.order_by("pk").first(),
        "budgetline": line,
        "budgetitem": BudgetItem.objects.filter(line__strategy=strategy).order_by("pk").first(),
        "inkindsupport": strategy.in_kind_support.order_by("pk").first(),
    }


def url(model, action, obj=None):
    args = [obj.pk] if obj is not None else []
    return reverse(f"admin:funding_{model}_{action}", args=args)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("username", list(RIGHTS))
def test_each_role_can_do_exactly_what_it_may(persona, client, komen_strategy, username, model):
    sees_demo, changes_demo, adds, sees_komen = RIGHTS[username]
    client.force_login(persona(username))
    demo_obj = objects_of(FundingStrategy.objects.get(slug="kras-2025-2029"))[model]
    komen_obj = objects_of(komen_strategy)[model]

    listing = client.get(url(model, "changelist"))
    assert listing.status_code == 200
    listed = {obj.pk for obj in listing.context["cl"].queryset}
    assert (demo_obj.pk in listed) == sees_demo
    assert (komen_obj.pk in listed) == sees_komen

    page = client.get(url(model, "change", demo_obj))
    assert page.status_code == 200
    assert ('name="_save"' in page.content.decode()) == changes_demo

    guessed = client.get(url(model, "change", komen_obj))
    if sees_komen:
        assert guessed.status_code == 200
        assert ('name="_save"' in guessed.content.decode()) == (username == "admin")
    else:  # the admin answers as if the object did not exist
        assert guessed.status_code == 302
        assert guessed["Location"] == reverse("admin:index")

    assert client.get(url(model, "delete", demo_obj)).status_code == (200 if changes_demo else 403)
    assert client.get(url(model, "add")).status_code == (200 if adds else 403)


@pytest.mark.parametrize("username", list(RIGHTS))
def test_nobody_but_its_coordinators_can_post_a_change_to_a_guessed_line(
    persona, client, komen_strategy, username
):
    client.force_login(persona(username))
    line = komen_strategy.lines.get()
    response = client.post(
        url("budgetline", "change", line),
        {
            "strategy": komen_strategy.pk,
            "association": line.association_id,
            "year": 2026,
            "category": "staff",
            "amount": "1.00",
            "note": "",
            "expected_version": line.version,
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
        },
    )
    line.refresh_from_db()
    if username == "admin":
        assert response.status_code in (200, 302)
    else:
        assert response.status_code in (302, 403)
        assert line.amount == Decimal("100.00")


def test_a_coordinator_cannot_add_a_line_to_a_strategy_it_does_not_lead(
    persona, client, komen_strategy
):
    client.force_login(persona("koordinator"))
    response = client.post(
        url("budgetline", "add"),
        {
            "strategy": komen_strategy.pk,
            "association": Association.objects.get(slug="rk-sezana").pk,
            "year": 2027,
            "category": "staff",
            "amount": "5.00",
            "note": "",
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the error on the strategy
    assert "strategy" in response.context["adminform"].form.errors
    assert not BudgetLine.objects.filter(strategy=komen_strategy, year=2027).exists()


def test_the_outsider_and_anonymous_reach_nothing(persona, client, komen_strategy):
    for login in (lambda: client.force_login(persona("zunanji")), client.logout):
        login()
        for model in MODELS:
            response = client.get(url(model, "changelist"))
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))


@pytest.fixture
def komen_coordinator(komen_strategy):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from funding.models import Membership
    from funding.roles import COORDINATOR

    user = get_user_model().objects.create_user("koordinator.komen", is_staff=True)
    user.groups.add(Group.objects.get(name=COORDINATOR))
    Membership.objects.create(user=user, municipality=Municipality.objects.get(slug="komen"))
    return user


@pytest.mark.parametrize("model", MODELS)
def test_a_coordinator_edits_only_the_strategies_its_municipality_leads(
    client, komen_coordinator, komen_strategy, model
):
    client.force_login(komen_coordinator)
    demo_obj = objects_of(FundingStrategy.objects.get(slug="kras-2025-2029"))[model]
    komen_obj = objects_of(komen_strategy)[model]
    # Komen takes part in the demo strategy, led by Sežana: read only.
    page = client.get(url(model, "change", demo_obj))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(url(model, "delete", demo_obj)).status_code == 403
    # Komen leads its own strategy: full rights.
    page = client.get(url(model, "change", komen_obj))
    assert 'name="_save"' in page.content.decode()
    assert client.get(url(model, "delete", komen_obj)).status_code == 200


@pytest.mark.parametrize("model", ["budgetline", "budgetitem"])
@pytest.mark.parametrize("username", list(RIGHTS))
def test_import_and_export_follow_the_role(persona, client, komen_strategy, username, model):
    _sees_demo, changes_demo, _adds, sees_komen = RIGHTS[username]
    client.force_login(persona(username))
    assert client.get(url(model, "import")).status_code == (200 if changes_demo else 403)
    assert client.get(url(model, "export")).status_code == 200
    exported = client.post(
        url(model, "export"),
        {"format": "0", **{f"{model}resource_strategy": "on", f"{model}resource_year": "on"}},
    )
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    assert "kras-2025-2029" in text
    assert ("komen-2026" in text) == sees_komen  # a guessed strategy never leaks out
