"""Annual reports and council submissions in the admin: who sees, edits and moves on what."""

from decimal import Decimal

import pytest
from django.urls import reverse

from funding.models import Municipality
from programs.models import AnnualReport, CouncilSubmission, Indicator
from tests.factories import unpublished
from tests.pages import admin_change_form, changelist_form

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:programs_annualreport_changelist"


def change_url(report):
    return reverse("admin:programs_annualreport_change", args=[report.pk])


def run_action(client, action, *reports):
    """Tick the reports on the list, choose the action and press Go, as the page offers them."""
    listing = changelist_form(client, reverse(CHANGELIST))
    assert action in listing.options("action")
    listing.set("_selected_action", [report.pk for report in reports]).set("action", action)
    return listing.submit("index")


def forged_action(client, action, *reports):
    """An action posted by hand on reports the user's list does not show: what an attacker
    could send."""
    forged = {"action": action, "_selected_action": [report.pk for report in reports]}
    return client.post(reverse(CHANGELIST), {**forged, "index": "0"})


@pytest.fixture
def velenje_report(demo):
    """The published Velenje 2024 report of the seed."""
    return AnnualReport.objects.get(association__slug="las-velenje", year=2024)


@pytest.fixture
def velenje_draft(velenje_report):
    draft = AnnualReport.objects.create(
        association=velenje_report.association,
        year=2025,
        title="Poročilo o delu Medobčinske LAS Velenje za leto 2025",
    )
    draft.municipalities.set([Municipality.objects.get(slug="velenje")])
    Indicator.objects.create(report=draft, name="Srečanja", achieved=Decimal("40"))
    return draft


@pytest.fixture
def kranj_submission(demo):
    return CouncilSubmission.objects.get(report__year=2004, municipality__slug="kranj")


def test_an_officer_sees_the_refusal_of_a_negative_indicator_and_nothing_is_saved(
    persona, client, velenje_draft
):
    client.force_login(persona("uradnik.velenje"))
    form = admin_change_form(client, change_url(velenje_draft))
    form.set("title", "Spremenjen naslov")
    form.add_inline_row("indicators", name="Predavanja", achieved="-6")

    response = form.submit("_save")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Popravite spodnjo napako." in text
    assert "-6 je manj od najmanjše dovoljene vrednosti" in text
    indicators = response.context["inline_admin_formsets"][1].formset
    assert indicators.prefix == "indicators"
    assert list(indicators.errors[-1]) == ["achieved"]
    velenje_draft.refresh_from_db()
    assert velenje_draft.title == "Poročilo o delu Medobčinske LAS Velenje za leto 2025"
    assert list(velenje_draft.indicators.values_list("name", "achieved")) == [
        ("Srečanja", Decimal("40.00"))
    ]


def test_an_officer_saves_a_valid_change_of_a_draft(persona, client, velenje_draft):
    client.force_login(persona("uradnik.velenje"))
    form = admin_change_form(client, change_url(velenje_draft))
    form.set("title", "Spremenjen naslov").set("users", "12")
    form.add_inline_row("indicators", name="Predavanja", achieved="6", planned="5,5")

    response = form.submit("_save")

    assert response.status_code == 302, response.context["adminform"].form.errors
    velenje_draft.refresh_from_db()
    assert (velenje_draft.title, velenje_draft.users) == ("Spremenjen naslov", 12)
    assert velenje_draft.status == AnnualReport.Status.DRAFT
    assert list(velenje_draft.municipalities.values_list("slug", flat=True)) == ["velenje"]
    assert list(velenje_draft.indicators.values_list("name", "planned", "achieved")) == [
        ("Srečanja", None, Decimal("40.00")),
        ("Predavanja", Decimal("5.50"), Decimal("6.00")),
    ]


def test_a_published_report_cannot_be_changed_by_its_officer(persona, client, velenje_report):
    client.force_login(persona("uradnik.velenje"))
    page = client.get(change_url(velenje_report))
    assert page.status_code == 200  # shown, read-only
    assert not page.context["has_change_permission"]
    assert 'name="title"' not in page.content.decode()
    # Forged: the read-only page has no field to type into, so these fields are written by hand.
    forged = {
        "association": str(velenje_report.association_id),
        "year": "2024",
        "title": "Prepisano",
        "municipalities": [str(pk) for pk in velenje_report.municipalities.values_list("pk")],
    }

    response = client.post(change_url(velenje_report), forged)

    assert response.status_code == 403
    velenje_report.refresh_from_db()
    assert velenje_report.title.startswith("Poročilo o delu Medobčinske lokalne akcijske")
    assert velenje_report.indicators.count() == 11


def test_an_officer_of_sezana_neither_lists_nor_opens_velenjes_reports(
    persona, client, velenje_report, velenje_draft
):
    client.force_login(persona("uradnik.sezana"))
    listed = client.get(reverse(CHANGELIST))
    assert listed.status_code == 200
    shown = list(listed.context["cl"].result_list)
    assert velenje_report not in shown and velenje_draft not in shown
    for report in (velenje_report, velenje_draft):
        response = client.get(change_url(report))
        assert response.status_code in (302, 403)
        assert report.title not in response.content.decode()
        # Forged: a post by hand to a report this officer is not shown.
        refused = client.post(change_url(report), {"title": "Prepisano"})
        assert refused.status_code in (302, 403)
    assert not AnnualReport.objects.filter(title="Prepisano").exists()


def test_a_council_member_of_velenje_lists_published_reports_only_and_changes_none(
    persona, client, velenje_report, velenje_draft
):
    client.force_login(persona("svetnik.velenje"))
    listed = client.get(reverse(CHANGELIST))
    assert listed.status_code == 200
    shown = list(listed.context["cl"].result_list)
    assert velenje_report in shown
    assert velenje_draft not in shown
    assert all(report.status == AnnualReport.Status.PUBLISHED for report in shown)
    page = client.get(change_url(velenje_report))
    assert page.status_code == 200
    assert 'name="title"' not in page.content.decode()  # read-only
    # Forged: posts by hand to the read-only page and to a draft this member is not shown.
    refused = client.post(change_url(velenje_report), {"title": "Prepisano"})
    assert refused.status_code == 403
    assert client.post(change_url(velenje_draft), {"title": "Prepisano"}).status_code in (302, 403)
    assert not AnnualReport.objects.filter(title="Prepisano").exists()


def test_advance_status_submits_then_publishes_a_draft(persona, client, velenje_draft):
    client.force_login(persona("uradnik.velenje"))
    assert run_action(client, "advance_status", velenje_draft).status_code == 302
    velenje_draft.refresh_from_db()
    assert velenje_draft.status == AnnualReport.Status.SUBMITTED
    assert velenje_draft.submitted_at is not None

    assert run_action(client, "advance_status", velenje_draft).status_code == 302
    velenje_draft.refresh_from_db()
    assert velenje_draft.status == AnnualReport.Status.PUBLISHED
    assert velenje_draft.published_at is not None


def test_advance_status_changes_nothing_for_a_user_without_rights_over_the_report(
    persona, client, velenje_report, velenje_draft
):
    client.force_login(persona("uradnik.sezana"))
    forged_action(client, "advance_status", velenje_draft)  # Velenje's draft is not on the list
    client.force_login(persona("svetnik.velenje"))  # shown the report, but not the action
    changelist = reverse("admin:programs_annualreport_changelist")
    assert "advance_status" not in client.get(changelist).content.decode()
    forged_action(client, "advance_status", velenje_report)
    velenje_draft.refresh_from_db()
    velenje_report.refresh_from_db()
    assert (velenje_draft.status, velenje_draft.submitted_at) == (AnnualReport.Status.DRAFT, None)
    assert velenje_report.status == AnnualReport.Status.PUBLISHED


def test_preparing_council_submissions_covers_the_users_municipalities_once(
    persona, client, velenje_report
):
    with unpublished(velenje_report):
        velenje_report.municipalities.add(Municipality.objects.get(slug="kranj"))
    client.force_login(persona("uradnik.velenje"))

    assert run_action(client, "prepare_council_submissions", velenje_report).status_code == 302
    run_action(client, "prepare_council_submissions", velenje_report)

    submissions = CouncilSubmission.objects.filter(report=velenje_report)
    assert [(s.municipality.slug, s.council) for s in submissions] == [
        ("velenje", "Svet Mestne občine Velenje")
    ]


def test_a_council_member_cannot_prepare_council_submissions(persona, client, velenje_report):
    client.force_login(persona("svetnik.velenje"))
    changelist = reverse("admin:programs_annualreport_changelist")
    assert "prepare_council_submissions" not in client.get(changelist).content.decode()
    forged_action(client, "prepare_council_submissions", velenje_report)
    assert not CouncilSubmission.objects.filter(report=velenje_report).exists()


def test_a_council_member_of_kranj_reads_but_cannot_change_the_kranj_submission(
    persona, client, kranj_submission
):
    client.force_login(persona("svetnik.kranj"))
    url = reverse("admin:programs_councilsubmission_change", args=[kranj_submission.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="council"' not in page.content.decode()  # read-only
    # Forged: the read-only page has no field to type into, so the fields are written by hand.
    response = client.post(url, {"council": "Prepisano", "resolution": "Prepisano"})
    assert response.status_code == 403
    kranj_submission.refresh_from_db()
    assert kranj_submission.council == "Svet Mestne občine Kranj"
    assert kranj_submission.resolution.startswith("Svet Mestne občine Kranj se je seznanil")


def test_an_officer_of_velenje_does_not_see_the_kranj_submission(persona, client, kranj_submission):
    client.force_login(persona("uradnik.velenje"))
    listed = client.get(reverse("admin:programs_councilsubmission_changelist"))
    assert listed.status_code == 200
    assert kranj_submission not in list(listed.context["cl"].result_list)
    url = reverse("admin:programs_councilsubmission_change", args=[kranj_submission.pk])
    response = client.get(url)
    assert response.status_code in (302, 403)
    assert "Svet Mestne občine Kranj" not in response.content.decode()
    # Forged: a post by hand to a submission this officer is not shown.
    refused = client.post(url, {"council": "Prepisano"})
    assert refused.status_code in (302, 403)
    kranj_submission.refresh_from_db()
    assert kranj_submission.council == "Svet Mestne občine Kranj"


def test_preparing_a_submission_for_a_report_without_narrative_is_not_a_server_error(
    persona, client, velenje_draft
):
    assert not velenje_draft.sections.exists()
    client.force_login(persona("uradnik.velenje"))
    response = run_action(client, "prepare_council_submissions", velenje_draft)
    assert response.status_code == 302
    assert CouncilSubmission.objects.filter(report=velenje_draft).count() == 1
