"""Not yours and not there look the same: no import, document or history page tells which ids,
slugs or names exist to a user who may not read them.

A strategy, municipality, report or record the user may not read is refused exactly as one
that does not exist — the same message in imports, the same status and page elsewhere. Where
the user reads it but may not change it, the refusal still says so.
"""

import re

import pytest
import tablib
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from funding.imports import (
    ImportFileError,
    plan_allocation_import,
    plan_item_import,
    plan_line_import,
)
from funding.models import BudgetLine, Municipality, StrategyRevision
from programs.imports import plan_activity_import
from programs.models import ActionPlan, AnnualReport, Association, CouncilSubmission
from tests.factories import MembershipFactory, ShareFactory, StrategyFactory

pytestmark = pytest.mark.django_db

MISSING_PK = 999999
MISSING_SLUG = "ni-take-2025-2029"


@pytest.fixture
def komen_strategy(demo):
    """A strategy of Komen alone: Sežana's coordinator and officers may not even read it."""
    komen = Municipality.objects.get(slug="komen")
    strategy = StrategyFactory(slug="obala-2025-2029", lead_municipality=komen)
    ShareFactory(strategy=strategy, municipality=komen)
    MembershipFactory(strategy=strategy, association=Association.objects.get(slug="po-moc"))
    return strategy


def problems_of(plan, column: str) -> list[str]:
    return [problem for problem in plan.problems if re.search(f"stolpec [„»]{column}[“«]", problem)]


def key_rows(slug: str, *extra) -> tablib.Dataset:
    return [slug, "2025", "po-moc", "Drugi stroški", *extra]


def line_file(slug: str) -> tablib.Dataset:
    headers = ["strategija", "leto", "društvo", "kategorija", "znesek"]
    return tablib.Dataset(key_rows(slug, "100,00"), headers=headers)


def item_file(slug: str) -> tablib.Dataset:
    headers = ["strategija", "leto", "društvo", "kategorija", "delovno mesto", "znesek"]
    return tablib.Dataset(key_rows(slug, "tajnica", "100,00"), headers=headers)


@pytest.mark.parametrize(
    ("plan_import", "file_of"), [(plan_line_import, line_file), (plan_item_import, item_file)]
)
def test_a_strategy_the_user_may_not_read_is_refused_as_one_that_does_not_exist(
    komen_strategy, persona, plan_import, file_of
):
    user = persona("koordinator")
    (hidden,) = problems_of(plan_import(file_of(komen_strategy.slug), user=user), "strategija")
    (missing,) = problems_of(plan_import(file_of(MISSING_SLUG), user=user), "strategija")
    assert hidden.replace(komen_strategy.slug, "…") == missing.replace(MISSING_SLUG, "…")
    assert "ni strategije „obala-2025-2029“, ki bi jo smeli urejati" in hidden

    # A strategy the user reads but may not edit still says so.
    reader = persona("uradnik.sezana")
    (refused,) = problems_of(plan_import(file_of("kras-2025-2029"), user=reader), "strategija")
    assert "strategije „kras-2025-2029“ ne smete urejati" in refused


def allocation_file(municipality: str) -> tablib.Dataset:
    return tablib.Dataset(
        [municipality, "2025", "Sociala", "Društvo", "10,00"],
        headers=["občina", "leto", "postavka", "prejemnik", "realizirano"],
    )


def test_a_municipality_the_user_may_not_read_is_refused_as_one_that_does_not_exist(demo, persona):
    user = persona("uradnik.sezana")
    (hidden,) = problems_of(plan_allocation_import(allocation_file("komen"), user=user), "občina")
    (missing,) = problems_of(plan_allocation_import(allocation_file("nikjer"), user=user), "občina")
    assert hidden.replace("komen", "…") == missing.replace("nikjer", "…")
    assert "ni občine „komen“, katere razdelitev sredstev bi smeli spreminjati" in hidden

    # Sežana's council member reads its allocations: told that changing them is not allowed.
    reader = persona("svetnik.sezana")
    (refused,) = problems_of(
        plan_allocation_import(allocation_file("sezana"), user=reader), "občina"
    )
    assert "razdelitev sredstev občine »sezana« ne smete spreminjati" in refused


def activity_file(plan: str) -> tablib.Dataset:
    return tablib.Dataset(
        [plan, "Poglavje", "Cilj", "Aktivnost", "2019-2", "MZ"],
        headers=["načrt", "poglavje", "cilj", "aktivnost", "obdobja", "nosilec"],
    )


def test_an_activity_import_tells_nothing_of_plans_to_one_who_may_not_read_them(demo):
    user = get_user_model().objects.create_user("pisec", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["add_activity", "change_activity"])
    )
    existing = ActionPlan.objects.order_by("pk").first()
    for plan in (existing.slug, MISSING_SLUG):
        with pytest.raises(ImportFileError) as refused:
            plan_activity_import(activity_file(plan), user=user)
        assert refused.value.problems == ["Aktivnosti akcijskih načrtov ne smete uvažati."]


# --- Pages ---------------------------------------------------------------------------------


def page(client, url: str, secret: str) -> tuple[int, str]:
    """The status and the page, with the id or slug asked for (and per-request tokens) blanked."""
    response = client.get(url)
    body = response.content.decode() if response.get("Content-Type", "").startswith("text") else ""
    body = re.sub(r'(nonce|value)="[^"]*"', r'\1=""', body)
    # The id or slug where a message quotes it or a link holds it, not a "1" of the markup.
    asked = re.compile(rf"(?<=[“„»/\s]){re.escape(str(secret))}(?=[”“«/.\s])")
    return response.status_code, asked.sub("…", response.get("Location", "") + body)


def assert_same_page(client, hidden_url, hidden, missing_url, missing, status=404):
    seen = page(client, hidden_url, hidden)
    assert seen == page(client, missing_url, missing)
    assert seen[0] == status


def logged_in(persona, username: str) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(persona(username))
    return client


@pytest.mark.parametrize(
    "pattern",
    [
        "/reports/strategies/{}/2025/cost-sharing/",
        "/reports/strategies/{}/2025/cost-sharing.csv",
        "/reports/strategies/{}/projection/",
        "/reports/strategies/{}/changes/",
    ],
)
def test_a_strategy_document_the_user_may_not_read_is_not_found(demo, persona, pattern):
    client = logged_in(persona, "uradnik.velenje")
    slug = demo.slug
    assert_same_page(client, pattern.format(slug), slug, pattern.format(MISSING_SLUG), MISSING_SLUG)


def test_a_revision_annex_the_user_may_not_read_is_not_found(demo, persona):
    revision = StrategyRevision.objects.create(strategy=demo, reason="Preizkus.")
    client = logged_in(persona, "uradnik.velenje")
    url = reverse("reports:revision-annex", args=[revision.pk])
    missing = reverse("reports:revision-annex", args=[MISSING_PK])
    assert_same_page(client, url, revision.pk, missing, MISSING_PK)


def test_a_report_and_a_submission_the_user_may_not_read_are_not_found(demo, persona):
    report = AnnualReport.objects.get(association__slug="las-velenje")
    client = logged_in(persona, "svetnik.kranj")
    for name in ["reports:annual-report", "reports:annual-report-file"]:
        args = [] if name == "reports:annual-report" else ["pdf"]
        url, missing = (
            reverse(name, args=[report.pk, *args]),
            reverse(name, args=[MISSING_PK, *args]),
        )
        assert_same_page(client, url, report.pk, missing, MISSING_PK)
    # Kranj's submission, to Velenje's council member.
    submission = CouncilSubmission.objects.get(municipality__slug="kranj")
    client = logged_in(persona, "svetnik.velenje")
    url = reverse("reports:council-submission", args=[submission.pk])
    missing = reverse("reports:council-submission", args=[MISSING_PK])
    assert_same_page(client, url, submission.pk, missing, MISSING_PK)
    # A role that reads no reports is refused whatever the number.
    outsider = logged_in(persona, "zunanji")
    url = reverse("reports:annual-report", args=[report.pk])
    missing = reverse("reports:annual-report", args=[MISSING_PK])
    assert_same_page(outsider, url, report.pk, missing, MISSING_PK, status=403)


@pytest.mark.parametrize("page_name", ["history", "simple_history", "change"])
def test_the_admin_pages_of_a_line_the_user_may_not_read_are_those_of_a_missing_one(
    demo, persona, page_name
):
    line = BudgetLine.objects.filter(strategy=demo).order_by("pk").first()
    client = logged_in(persona, "uradnik.velenje")
    name = f"admin:funding_budgetline_{page_name}"
    if page_name == "simple_history":
        version = line.history.order_by("history_id").first().history_id
        url = reverse(name, args=[line.pk, version])
        missing = reverse(name, args=[MISSING_PK, version])
        # Both pages name the version asked for, the same one.
        hidden = absent = "§"
    else:
        url, missing = reverse(name, args=[line.pk]), reverse(name, args=[MISSING_PK])
        hidden, absent = line.pk, MISSING_PK
    assert_same_page(
        client, url, hidden, missing, absent, status=302 if page_name == "change" else 404
    )


@pytest.mark.parametrize("page_name", ["history", "change"])
def test_the_admin_pages_of_a_report_the_user_may_not_read_are_those_of_a_missing_one(
    demo, persona, page_name
):
    report = AnnualReport.objects.get(association__slug="las-velenje")
    client = logged_in(persona, "svetnik.kranj")
    name = f"admin:programs_annualreport_{page_name}"
    url, missing = reverse(name, args=[report.pk]), reverse(name, args=[MISSING_PK])
    assert_same_page(client, url, report.pk, missing, MISSING_PK, status=302)
