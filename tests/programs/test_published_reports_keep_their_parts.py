"""A published report — with the projects, indicators and budget items it shows — keeps its parts.

Reviewers' findings, driven through the admin's pages as rendered: an officer of Komen deleted
a project of Velenje's published NOVUS report (30 → 28 indicators); deleting a budget item took
the realisation table out of a published report; a reallocation went to Kranj's budget item.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from funding.models import Allocation, MunicipalBudgetItem, Municipality, Reallocation
from programs.models import AnnualReport, Indicator, Project
from tests.pages import admin_change_form, forms_of, open_form

pytestmark = pytest.mark.django_db

NOVUS_PROJECT = "AS-Aktiviraj Se!"
LAS_ITEM = "LAS – Program za boj proti drogi"


@pytest.fixture
def novus(demo):
    report = AnnualReport.objects.get(association__slug="novus", year=2020)
    assert report.is_published and report.indicators.count() == 30
    return report


@pytest.fixture
def las_item(demo):
    item = MunicipalBudgetItem.objects.get(name=LAS_ITEM)
    assert item.annual_reports.get().is_published
    return item


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def delete_url(obj):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[obj.pk])


def bulk_delete(client, model, search: str):
    """Select the rows the search finds, run "delete selected", confirm if a page asks."""
    url = f"{changelist(model)}?q={search}"
    listing = open_form(client, url, form_id="changelist-form")
    listing.check("_selected_action").set("action", "delete_selected")
    response = listing.submit("index")
    if response.status_code != 200:
        return response
    confirmations = [f for f in forms_of(client, url, response) if "post" in f.names]
    if not confirmations:
        return response  # the page refuses: nothing to confirm
    return confirmations[0].submit()


# --- the model layer: every path that deletes or saves ---------------------------------------


def refused():
    """Expect a refusal; the refused write's transaction is rolled back, as a request's is."""
    return _Refused()


class _Refused:
    def __enter__(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def __exit__(self, kind, error, traceback):
        self.atomic.__exit__(kind, error, traceback)
        assert kind is ValidationError, f"expected a refusal, got {kind}"
        assert "published" in str(error) or "objavljen" in str(error)
        return True


def test_a_published_reports_project_cannot_be_deleted_nor_renamed_in_code(novus):
    project = novus.projects.get(name=NOVUS_PROJECT)
    with refused():
        project.delete()
    with refused():
        Project.objects.filter(pk=project.pk).delete()  # the bulk action's path
    project.name = "Preimenovan"
    with refused():
        project.save()
    assert novus.indicators.count() == 30
    assert Project.objects.filter(name=NOVUS_PROJECT).exists()


def test_a_published_reports_parts_cannot_change_join_or_leave(novus):
    indicator = novus.indicators.first()
    indicator.achieved += 1
    with refused():
        indicator.save()
    with refused():
        Indicator.objects.filter(report=novus).delete()
    with refused():
        Indicator.objects.create(report=novus, name="nov", achieved=Decimal("1"))
    with refused():
        novus.projects.clear()
    with refused():
        novus.sections.all().delete()
    assert novus.indicators.count() == 30 and novus.projects.count() == 5


def test_a_published_reports_budget_item_allocations_and_reallocations_are_kept(las_item):
    with refused():
        MunicipalBudgetItem.objects.filter(pk=las_item.pk).delete()
    with refused():
        las_item.allocations.first().delete()
    with refused():
        Allocation.objects.create(item=las_item, recipient="x", realised_amount=Decimal("1"))
    moved = las_item.reallocations_out.get()
    with refused():
        moved.delete()
    target = moved.target  # named by the published table
    target.name = "Drugo ime"
    with refused():
        target.save()
    assert las_item.allocations.count() == 7 and las_item.reallocations_out.count() == 1


def test_saving_a_published_reports_part_unchanged_is_not_a_change(novus):
    project = novus.projects.get(name=NOVUS_PROJECT)
    project.save()  # loaders update in place; nothing changed, nothing refused


# --- the admin: standalone pages, delete pages, the bulk action ------------------------------


def test_komens_officer_neither_sees_nor_changes_velenjes_project(novus, persona, client):
    project = novus.projects.get(name=NOVUS_PROJECT)
    client.force_login(persona("uradnik.komen"))
    listing = client.get(changelist(Project))
    assert project not in listing.context["cl"].result_list
    assert client.get(change_url(project)).status_code == 302  # as if it did not exist
    assert client.get(delete_url(project)).status_code == 302
    assert client.post(delete_url(project), {"post": "yes"}).status_code == 302
    assert client.post(change_url(project), {"name": "X"}).status_code in (302, 403)
    assert Project.objects.get(pk=project.pk).name == NOVUS_PROJECT
    assert novus.indicators.count() == 30


@pytest.mark.parametrize("username", ["admin", "uradnik.velenje"])
def test_a_published_reports_project_shows_read_only_with_the_reason(
    novus, persona, client, username
):
    project = novus.projects.get(name=NOVUS_PROJECT)
    client.force_login(persona(username))
    page = client.get(change_url(project))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="_save"' not in text
    assert novus.title in text  # the reason names the report
    assert client.get(delete_url(project)).status_code == 403
    assert client.post(change_url(project), {"name": "X"}).status_code == 403
    assert Project.objects.get(pk=project.pk).name == NOVUS_PROJECT


def test_the_bulk_delete_of_a_published_reports_project_is_refused(novus, persona, client):
    client.force_login(persona("admin"))
    response = bulk_delete(client, Project, "Aktiviraj")
    assert response.status_code == 200
    assert novus.title in response.content.decode()
    assert Project.objects.filter(name=NOVUS_PROJECT).exists()
    assert novus.indicators.count() == 30


def test_a_project_of_no_report_is_deleted_by_the_bulk_action(novus, client, persona):
    association = novus.association
    loose = Project.objects.create(
        association=association,
        name="Projekt Zxq",
        start_date="2025-01-01",
        end_date="2025-12-31",
    )
    client.force_login(persona("admin"))
    response = bulk_delete(client, Project, "Zxq")
    assert response.status_code == 302
    assert not Project.objects.filter(pk=loose.pk).exists()
    assert novus.projects.count() == 5


def test_a_published_reports_budget_item_cannot_be_deleted_in_the_admin(las_item, persona, client):
    client.force_login(persona("uradnik.velenje"))
    page = client.get(change_url(las_item))
    assert 'name="_save"' not in page.content.decode()
    assert client.get(delete_url(las_item)).status_code == 403
    client.force_login(persona("admin"))
    assert client.get(delete_url(las_item)).status_code == 403
    response = bulk_delete(client, MunicipalBudgetItem, "Program za boj")
    assert response.status_code == 200
    assert MunicipalBudgetItem.objects.filter(pk=las_item.pk).exists()
    assert las_item.allocations.count() == 7
    report = las_item.annual_reports.get()
    assert client.get(reverse("reports:annual-report", args=[report.pk])).status_code == 200


def add_inline_row(form, prefix: str, **values):
    """Press "Add another": the page's script copies the empty row's fields as row 0."""
    template = f"{prefix}-__prefix__-"
    for name in [n for n in form.names if n.startswith(template)]:
        form.values[name.replace("__prefix__", "0")] = list(form.values.get(name, []))
    form.set(f"{prefix}-TOTAL_FORMS", "1")
    for name, value in values.items():
        form.values[f"{prefix}-0-{name}"] = [str(value)]


# --- the reallocation inline: the item's own budget only ------------------------------------


@pytest.fixture
def velenje_items(demo):
    velenje, kranj = (Municipality.objects.get(slug=s) for s in ("velenje", "kranj"))
    source = MunicipalBudgetItem.objects.create(
        municipality=velenje, year=2025, name="Preventiva", adopted_amount=Decimal("1000.00")
    )
    sibling = MunicipalBudgetItem.objects.create(municipality=velenje, year=2025, name="Mladi")
    MunicipalBudgetItem.objects.create(municipality=velenje, year=2026, name="Mladi")
    kranj_item = MunicipalBudgetItem.objects.create(municipality=kranj, year=2025, name="Mladi")
    return source, sibling, kranj_item


def test_the_reallocation_inline_offers_only_the_items_own_budget(velenje_items, persona, client):
    source, sibling, _kranj_item = velenje_items
    client.force_login(persona("uradnik.velenje"))
    form = admin_change_form(client, change_url(source))
    offered = {value for value in form.options("reallocations_out-__prefix__-target") if value}
    assert offered == {str(sibling.pk)}


def test_a_reallocation_to_another_municipalitys_item_is_refused(velenje_items, persona, client):
    source, _sibling, kranj_item = velenje_items
    move = Reallocation(source=source, target=kranj_item, amount=Decimal("99000.00"), reason="x")
    with pytest.raises(ValidationError) as raised:
        move.full_clean()
    assert "target" in raised.value.message_dict
    client.force_login(persona("admin"))  # sees every item: the model rule still holds
    form = admin_change_form(client, change_url(source))
    add_inline_row(form, "reallocations_out", target=kranj_item.pk, amount="99.000,00", reason="x")
    response = form.submit("_save")
    assert response.status_code == 200  # the form again, with the error
    assert not Reallocation.objects.filter(target=kranj_item).exists()
