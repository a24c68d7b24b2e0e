"""Annual reports and council submissions in the admin: who sees, edits and moves on what."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from funding.models import Municipality
from programs.models import AnnualReport, CouncilSubmission, Indicator
from tests.factories import unpublished

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:programs_annualreport_changelist"


def change_url(report):
    return reverse("admin:programs_annualreport_change", args=[report.pk])


def field_values(form) -> dict:
    """What a browser sends back for a form left as it is shown."""
    data = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        if value is True:
            data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        elif isinstance(value, datetime.date):
            data[bound.html_name] = value.isoformat()
        else:
            data[bound.html_name] = str(value)
    return data


def page_data(response) -> dict:
    """The change page's main form, inline forms and management forms, as shown."""
    data = field_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(field_values(formset.management_form))
        for form in formset.forms:
            data.update(field_values(form))
    return data


def add_indicator(data, **values) -> dict:
    """The page's data with one more indicator row typed in."""
    total = int(data["indicators-TOTAL_FORMS"])
    data = {**data, "indicators-TOTAL_FORMS": str(total + 1)}
    row = {"position": "0", "kind": "output", "unit": "count", **values}
    data.update({f"indicators-{total}-{name}": value for name, value in row.items()})
    return data


def run_action(client, action, *reports):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [report.pk for report in reports], "index": "0"},
    )


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
    page = client.get(change_url(velenje_draft))
    assert page.status_code == 200
    data = add_indicator(
        {**page_data(page), "title": "Spremenjen naslov"}, name="Predavanja", achieved="-6"
    )

    response = client.post(change_url(velenje_draft), data)

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
    page = client.get(change_url(velenje_draft))
    data = add_indicator(
        {**page_data(page), "title": "Spremenjen naslov", "users": "12"},
        name="Predavanja",
        achieved="6",
        planned="5,5",
    )

    response = client.post(change_url(velenje_draft), data)

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
    data = {
        "association": str(velenje_report.association_id),
        "year": "2024",
        "title": "Prepisano",
        "municipalities": [str(pk) for pk in velenje_report.municipalities.values_list("pk")],
    }

    response = client.post(change_url(velenje_report), data)

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
    assert client.get(change_url(velenje_report)).status_code == 200
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
    run_action(client, "advance_status", velenje_draft)
    client.force_login(persona("svetnik.velenje"))
    response = run_action(client, "advance_status", velenje_report)
    assert response.status_code == 302
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
    run_action(client, "prepare_council_submissions", velenje_report)
    assert not CouncilSubmission.objects.filter(report=velenje_report).exists()


def test_a_council_member_of_kranj_reads_but_cannot_change_the_kranj_submission(
    persona, client, kranj_submission
):
    client.force_login(persona("svetnik.kranj"))
    url = reverse("admin:programs_councilsubmission_change", args=[kranj_submission.pk])
    assert client.get(url).status_code == 200
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
