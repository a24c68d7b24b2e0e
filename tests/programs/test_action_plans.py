"""Action plans: the demo plan matches seed 003, and the rules refuse bad input, writing nothing.

The seed is the national action plan on illicit drugs 2019–2020; the demo holds its first three
chapters (fixtures/action-plan-2019-2020.json) with the funding figures exactly as stated.
"""

import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from programs.models import (
    ActionPlan,
    Activity,
    ActivityInstitution,
    ActivityProgress,
    Institution,
    Objective,
    PlanChapter,
    PlanFunding,
)
from programs.services import action_plan_load, activity_responsible_set
from tests.pages import RenderedForm, admin_change_form

pytestmark = pytest.mark.django_db

FIXTURE = settings.BASE_DIR / "fixtures" / "action-plan-2019-2020.json"
SLUG = "droge-2019-2020"
ALL = "2019-1 2019-2 2020-1 2020-2"


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in English; the lead translates them."""
    with translation.override("en"):
        yield


@pytest.fixture
def plan() -> ActionPlan:
    """The seed plan alone, without the rest of the demo."""
    return action_plan_load(document=json.loads(FIXTURE.read_text(encoding="utf-8")))


def activity(text: str) -> Activity:
    """The activity of this text, or the one whose text starts so."""
    exact = Activity.objects.filter(text=text)
    return exact.get() if exact.exists() else Activity.objects.get(text__startswith=text)


def responsible(act: Activity) -> list[tuple[str, bool]]:
    return [(r.institution.short_name, r.is_lead) for r in act.responsible.all()]


def snapshot() -> dict:
    """Every row of the action-plan models, to prove that nothing was written."""
    models = (ActionPlan, PlanChapter, Objective, Activity, ActivityInstitution, PlanFunding)
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (*models, ActivityProgress, Institution)
    }


# --- The demo plan against the seed ------------------------------------------------------------


def test_the_demo_plan_matches_the_seed(demo):
    plan = ActionPlan.objects.get(slug=SLUG)
    assert plan.title == "Akcijski načrt na področju prepovedanih drog za obdobje 2019–2020"
    assert plan.issuer == "Vlada Republike Slovenije"
    assert (plan.start_year, plan.end_year, plan.periods) == (
        2019,
        2020,
        ["2019-1", "2019-2", "2020-1", "2020-2"],
    )
    assert plan.introduction.startswith("Vlada Republike Slovenije sprejema akcijski načrt")
    assert "znašal 10.117.317,00 € letno" in plan.introduction
    assert [(f.funder.short_name, f.amount) for f in plan.funding.all()] == [
        ("MDDSZEM", Decimal("3888886.00")),
        ("MZ", Decimal("831744.00")),
        ("ZZZS", Decimal("4942000.00")),
        ("ZZZS", Decimal("149000.00")),
        ("URSM", Decimal("55687.00")),
        ("Policija", Decimal("250000.00")),
    ]
    assert plan.stated_total == Decimal("10117317.00")
    assert plan.funding_total() == Decimal("10117317.00")
    assert plan.funding_difference() == Decimal("0.00")
    assert [c.title for c in plan.chapters.all()] == [
        "Zakonodaja",
        "Koordinacija, financiranje",
        "Informacijski sistem",
    ]
    assert [c.objectives.count() for c in plan.chapters.all()] == [4, 5, 3]
    counts = [Activity.objects.filter(objective__chapter=c).count() for c in plan.chapters.all()]
    assert counts == [8, 12, 17]


@pytest.mark.parametrize(
    ("text", "periods", "institutions"),
    [
        (
            "Imenovanje delovne skupine",
            "2019-2",
            [("Komisija za droge", True), ("DS ZPPPD", False)],
        ),
        ("Analiza zakona in potrebnih sprememb", "2020-1", None),
        ("Spremljanje pojavljanj NPS)", "2019-2 2020-2", None),
        ("Imenovanje delovne skupine za pripravo končnega", "2020-2", None),
        ("Priprava novega Sklepa o imenovanju Komisije", "2019-1", None),
        ("Oblikovanje in razvoj idejne zasnove", "2019-1 2019-2", None),
        (
            "Oblikovanje modela skupnostnega pristopa",
            "2020-1",
            [
                ("NIJZ OE Koper", True),
                ("MZ", False),
                ("LAS", False),
                ("Občine", False),
                ("SOS", False),
                ("ZOS", False),
                ("ZMOS", False),
                ("NVO", False),
            ],
        ),
        ("Redni sestanki vseh financerjev", ALL, None),
        (
            "Pregled programov, ki so namenjeni",
            "2019-2",
            [("NIJZ OE Koper", True), ("MZ", False), ("MDDSZEM", False)],
        ),
        ("Redno poročanje EMCDDA in drugim", ALL, None),
    ],
)
def test_the_demo_activities_run_in_the_seeds_half_years_with_its_lead(
    plan, text, periods, institutions
):
    act = activity(text)
    assert act.periods == periods
    if institutions is not None:
        assert responsible(act) == institutions


def test_every_demo_activity_has_exactly_one_lead_first_named(plan):
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    entries = [
        (objective["text"], entry)
        for chapter in document["chapters"]
        for objective in chapter["objectives"]
        for entry in objective["activities"]
    ]
    assert Activity.objects.count() == len(entries) == 37
    for objective, entry in entries:
        act = Activity.objects.get(text=entry["text"], objective__text=objective)
        assert act.lead.short_name == entry["lead"]
        assert [p.short_name for p in act.partners] == entry["partners"]
        act.full_clean()


def test_the_demo_reuses_the_shared_institutions_and_keeps_their_names(demo):
    assert Institution.objects.filter(short_name="NIJZ").count() == 1
    assert Institution.objects.get(short_name="MDDSZEM").name == (
        "Ministrstvo za delo, družino, socialne zadeve in enake možnosti"
    )
    nijz = Institution.objects.get(short_name="NIJZ")
    assert nijz.activity_roles.filter(is_lead=True).count() == 15


def test_loading_the_plan_twice_duplicates_nothing(plan):
    before = {k: len(v) for k, v in snapshot().items()}
    action_plan_load(document=json.loads(FIXTURE.read_text(encoding="utf-8")))
    assert {k: len(v) for k, v in snapshot().items()} == before


# --- Rules --------------------------------------------------------------------------------------


def first_activity() -> Activity:
    return activity("Imenovanje delovne skupine za pripravo končnega")


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ("2019-2 2021-1", "2021-1 is not in the plan's period 2019–2020."),
        ("2018-2", "2018-2 is not in the plan's period 2019–2020."),
        ("2019-3", "“2019-3” is not a half-year; write the year and 1 or 2, as 2019-2."),
        ("2019/1", "“2019/1” is not a half-year"),
        ("2019-2 2019-2", "2019-2 is given twice."),
        (" ", "Give at least one half-year, such as 2019-2."),
    ],
)
def test_an_activity_refuses_half_years_outside_the_plan_naming_them(plan, periods, message):
    act = first_activity()
    act.periods = periods
    with pytest.raises(ValidationError) as raised:
        act.full_clean()
    assert any(message in m for m in raised.value.message_dict["periods"]), raised.value


def test_half_years_are_stored_in_the_plans_order(plan):
    act = first_activity()
    act.periods = "2020-2, 2019-1"
    act.full_clean()
    assert act.periods == "2019-1 2020-2"


def test_a_plan_may_not_end_before_it_starts(plan):
    plan.end_year = 2018
    with pytest.raises(ValidationError) as raised:
        plan.full_clean()
    assert raised.value.message_dict["end_year"] == [
        "The last year 2018 is before the first year 2019."
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionPlan.objects.filter(pk=plan.pk).update(end_year=2018)


def test_a_negative_funding_amount_is_refused(plan):
    funding = plan.funding.first()
    funding.amount = Decimal("-5.00")
    with pytest.raises(ValidationError) as raised:
        funding.full_clean()
    assert "amount" in raised.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanFunding.objects.filter(pk=funding.pk).update(amount=Decimal("-5.00"))
    assert PlanFunding.objects.get(pk=funding.pk).amount == Decimal("3888886.00")


def test_the_funding_check_reports_a_difference_or_no_stated_total(plan):
    plan.funding.filter(funder__short_name="URSM").update(amount=Decimal("55678.00"))
    assert plan.funding_total() == Decimal("10117308.00")
    assert plan.funding_difference() == Decimal("-9.00")
    plan.stated_total = None
    assert plan.funding_difference() is None


def test_progress_lies_in_the_plan_and_is_planned_only_in_the_activitys_half_years(plan):
    act = first_activity()  # runs in 2020-2 only
    with pytest.raises(ValidationError) as raised:
        ActivityProgress(activity=act, period="2021-1", status="done").full_clean()
    assert raised.value.message_dict["period"] == ["2021-1 is not in the plan's period 2019–2020."]
    with pytest.raises(ValidationError) as raised:
        ActivityProgress(activity=act, period="2020-1", status="planned").full_clean()
    assert "does not run in 2020-1" in raised.value.message_dict["status"][0]
    late = ActivityProgress(activity=act, period="2020-2", status="late", note="Zamik")
    late.full_clean()
    late.save()
    assert act.progress.get().status == "late"


def test_the_progress_summary_counts_every_half_year_of_every_activity(plan):
    act = first_activity()
    ActivityProgress.objects.create(activity=act, period="2020-2", status="done")
    other = activity("Priprava novega Sklepa o imenovanju Komisije")  # 2019-1 only
    ActivityProgress.objects.create(activity=other, period="2019-2", status="late")
    half_years = sum(len(a.period_list) for a in Activity.objects.all())
    summary = plan.progress_summary()
    assert summary == {
        "planned": half_years - 1,
        "in_progress": 0,
        "done": 1,
        "late": 1,
        "total": half_years + 1,
    }


def test_an_activity_needs_exactly_one_lead_and_nothing_is_written_without_one(plan):
    act = first_activity()
    before = snapshot()
    with pytest.raises(ValidationError) as raised:
        activity_responsible_set(activity=act, lead=None, partners=[])
    assert raised.value.code == "no_lead"
    assert snapshot() == before
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityInstitution.objects.create(
            activity=act, institution=Institution.objects.get(short_name="MZ"), is_lead=True
        )


def test_the_lead_moves_to_a_partner_and_setting_the_same_changes_nothing(plan):
    act = first_activity()
    mz, komisija = (Institution.objects.get(short_name=s) for s in ("MZ", "Komisija za droge"))
    activity_responsible_set(activity=act, lead=komisija, partners=[mz])
    activity_responsible_set(activity=act, lead=mz, partners=[komisija])
    assert responsible(act) == [("MZ", True), ("Komisija za droge", False)]
    before = snapshot()
    activity_responsible_set(activity=act, lead=mz, partners=[komisija])
    assert snapshot() == before


# --- Admin --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["actionplan", "planchapter", "objective", "activity"])
def test_the_action_plan_admin_lists_adds_and_changes(demo, persona, client, model):
    client.force_login(persona("admin"))
    assert client.get(reverse(f"admin:programs_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:programs_{model}_add")).status_code == 200
    obj = {
        "actionplan": ActionPlan.objects.first,
        "planchapter": PlanChapter.objects.first,
        "objective": Objective.objects.first,
        "activity": Activity.objects.first,
    }[model]()
    assert client.get(reverse(f"admin:programs_{model}_change", args=[obj.pk])).status_code == 200


def test_the_plan_page_shows_the_computed_total_against_the_stated_one(demo, persona, client):
    client.force_login(persona("koordinator"))
    plan = ActionPlan.objects.get(slug=SLUG)
    with translation.override("sl"):
        page = client.get(reverse("admin:programs_actionplan_change", args=[plan.pk]))
    assert page.status_code == 200
    assert "10.117.317,00" in page.content.decode()


def test_the_activity_list_filters_by_institution(demo, persona, client):
    client.force_login(persona("uradnik.sezana"))
    koper = Institution.objects.get(short_name="NIJZ OE Koper")
    page = client.get(
        reverse("admin:programs_activity_changelist"),
        {"responsible__institution__id__exact": koper.pk},
    )
    assert page.status_code == 200
    assert len(page.context["cl"].result_list) == 5


def _activity_form(
    client, act: Activity, rows: list[tuple[Institution, bool]], **typed
) -> RenderedForm:
    """The activity add page filled as a user would: the objective, position and texts of
    ``act`` (``typed`` overrides them) and one responsible row an institution ("Add another")."""
    form = admin_change_form(client, reverse("admin:programs_activity_add"))
    values = {
        "objective": act.objective_id,
        "position": act.position,
        "periods": act.periods,
        "text": act.text,
        "expected_results": act.expected_results,
        **typed,
    }
    for name, value in values.items():
        form.set(name, value)
    for index, (institution, is_lead) in enumerate(rows):
        form.add_inline_row(
            "responsible", institution=institution.pk, position=index, is_lead=is_lead
        )
    return form


@pytest.mark.parametrize(
    ("leads", "message"), [(0, "nima nosilne institucije"), (2, "ima več nosilnih institucij (2)")]
)
def test_the_admin_requires_exactly_one_lead_and_saves_nothing_otherwise(
    demo, persona, client, leads, message
):
    client.force_login(persona("koordinator"))
    template = first_activity()
    mz, nvo = (Institution.objects.get(short_name=s) for s in ("MZ", "NVO"))
    form = _activity_form(
        client, template, [(mz, leads >= 1), (nvo, leads >= 2)], text="Nova aktivnost"
    )
    before = snapshot()
    response = form.submit("_save")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot() == before


def test_the_admin_adds_an_activity_with_one_lead(demo, persona, client):
    client.force_login(persona("koordinator"))
    template = first_activity()
    mz, nvo = (Institution.objects.get(short_name=s) for s in ("MZ", "NVO"))
    form = _activity_form(
        client, template, [(mz, True), (nvo, False)], text="Nova aktivnost", periods="2020-1 2019-2"
    )
    response = form.submit("_save")
    assert response.status_code == 302, response.content.decode()[:3000]
    added = Activity.objects.get(text="Nova aktivnost")
    assert added.periods == "2019-2 2020-1"
    assert responsible(added) == [("MZ", True), ("NVO", False)]


def test_the_admin_refuses_a_half_year_outside_the_plan(demo, persona, client):
    client.force_login(persona("koordinator"))
    template = first_activity()
    mz = Institution.objects.get(short_name="MZ")
    form = _activity_form(client, template, [(mz, True)], text="Nova aktivnost", periods="2021-1")
    response = form.submit("_save")
    assert response.status_code == 200
    assert "2021-1 ni v obdobju načrta 2019–2020." in response.content.decode()
    assert not Activity.objects.filter(text="Nova aktivnost").exists()


@pytest.mark.parametrize(
    ("username", "may_change"),
    [
        ("koordinator", True),
        ("uradnik.sezana", True),
        ("svetnik.sezana", False),
        ("referent.sezana", False),
    ],
)
def test_roles_read_action_plans_and_coordinators_and_officers_edit_them(
    demo, persona, username, may_change
):
    user = persona(username)
    for model in ("actionplan", "activity", "activityinstitution", "activityprogress"):
        assert user.has_perm(f"programs.view_{model}")
        assert user.has_perm(f"programs.change_{model}") is may_change
        assert user.has_perm(f"programs.add_{model}") is may_change
    # A mistaken activity, partner or progress note can be removed; a whole plan only by a
    # superuser.
    for model in ("activity", "activityinstitution", "activityprogress"):
        assert user.has_perm(f"programs.delete_{model}") is may_change
    assert not user.has_perm("programs.delete_actionplan")
