"""Every persona × annual report and council submission × what the admin lets them do.

The rule (programs.permissions): a report is seen by members of the municipalities it is
reported to; drafts only by the roles that write reports; a published report is read-only for
everyone; a council submission is seen by members of its council's municipality.
"""

import pytest
from django.urls import reverse

from funding.models import Municipality
from programs.models import AnnualReport, CouncilSubmission

pytestmark = pytest.mark.django_db

# persona: (sees Velenje's published report, sees Velenje's draft, changes the draft,
#           sees Kranj's submission, changes it)
RIGHTS = {
    "admin": (True, True, True, True, True),
    "uradnik.velenje": (True, True, True, False, False),
    "svetnik.velenje": (True, False, False, False, False),
    "svetnik.kranj": (False, False, False, True, False),
    "koordinator": (False, False, False, False, False),
    "uradnik.sezana": (False, False, False, False, False),
    "referent.sezana": (False, False, False, False, False),
}


@pytest.fixture
def documents(demo):
    published = AnnualReport.objects.get(association__slug="las-velenje")
    draft = AnnualReport.objects.create(
        association=published.association, year=2025, title="Poročilo LAS Velenje 2025"
    )
    draft.municipalities.add(Municipality.objects.get(slug="velenje"))
    submission = CouncilSubmission.objects.get(municipality__slug="kranj")
    return published, draft, submission


def listed(client, model, obj) -> bool:
    response = client.get(reverse(f"admin:programs_{model}_changelist"))
    if response.status_code != 200:
        return False
    return obj in response.context["cl"].result_list


def may_change(client, model, obj) -> bool:
    response = client.get(reverse(f"admin:programs_{model}_change", args=[obj.pk]))
    return response.status_code == 200 and response.context["has_change_permission"]


@pytest.mark.parametrize("username", RIGHTS)
def test_each_persona_sees_and_changes_exactly_its_reports(documents, persona, client, username):
    published, draft, submission = documents
    client.force_login(persona(username))
    sees_published, sees_draft, changes_draft, sees_submission, changes_submission = RIGHTS[
        username
    ]
    assert listed(client, "annualreport", published) is sees_published
    assert listed(client, "annualreport", draft) is sees_draft
    assert may_change(client, "annualreport", draft) is changes_draft
    assert listed(client, "councilsubmission", submission) is sees_submission
    assert may_change(client, "councilsubmission", submission) is changes_submission
    # Nobody changes a published report, not even a superuser.
    assert may_change(client, "annualreport", published) is False
    before = AnnualReport.objects.get(pk=published.pk).title
    response = client.post(
        reverse("admin:programs_annualreport_change", args=[published.pk]), {"title": "X"}
    )
    assert response.status_code in (302, 403)
    assert AnnualReport.objects.get(pk=published.pk).title == before


def test_the_outsider_gets_nothing(documents, persona, client):
    published, draft, submission = documents
    client.force_login(persona("zunanji"))
    for model, obj in [
        ("annualreport", published),
        ("annualreport", draft),
        ("councilsubmission", submission),
    ]:
        response = client.get(reverse(f"admin:programs_{model}_change", args=[obj.pk]))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
