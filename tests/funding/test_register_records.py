"""Shared register records (municipalities, associations, institutions, programmes): changed only
by those allowed (through the page, a history revert or a bulk action), with history, and never
silently overwritten by a strategy import."""

import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from funding.models import FundingStrategy, Municipality, StrategyShare
from programs.models import Association, Institution, Programme
from tests.pages import admin_change_form, forms_of, open_form

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(record) -> str:
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])


def komen() -> Municipality:
    return Municipality.objects.get(slug="komen")


def test_a_coordinator_cannot_change_another_municipalitys_mayor(persona):
    coordinator = logged_in(persona("koordinator"))
    page = admin_change_form(coordinator, change_url(komen()))
    assert "mayor_name" not in page.names  # shown read-only

    # The page as an editor gets it, posted by the coordinator: refused, nothing written.
    form = admin_change_form(logged_in(persona("admin")), change_url(komen()))
    form.set("mayor_name", "Ponarejen Župan")
    form.client = coordinator
    assert form.submit("_save").status_code == 403
    assert komen().mayor_name == "mag. Erik Modic"
    assert not komen().history.filter(mayor_name="Ponarejen Župan").exists()


def test_a_coordinator_still_changes_its_own_municipality(persona):
    coordinator = logged_in(persona("koordinator"))
    form = admin_change_form(coordinator, change_url(Municipality.objects.get(slug="sezana")))
    form.set("address", "Partizanska cesta 4, 6210 Sežana")
    assert form.submit("_save").status_code == 302
    sezana = Municipality.objects.get(slug="sezana")
    assert sezana.address == "Partizanska cesta 4, 6210 Sežana"
    assert sezana.history.latest().history_user.username == "koordinator"


def test_komens_officer_changes_komens_record_with_history(persona):
    officer = logged_in(persona("uradnik.komen"))
    form = admin_change_form(officer, change_url(komen()))
    form.set("mayor_name", "Nova Županja").set("mayor_title", "zupanja")
    assert form.submit("_save").status_code == 302
    assert (komen().mayor_name, komen().mayor_title) == ("Nova Županja", "zupanja")
    latest, before = komen().history.order_by("-history_date", "-history_id")[:2]
    assert latest.history_user.username == "uradnik.komen"
    changes = {c.field: (c.old, c.new) for c in latest.diff_against(before).changes}
    assert changes["mayor_name"] == ("mag. Erik Modic", "Nova Županja")

    # Sežana's record is not Komen's officer's to change.
    assert (
        "mayor_name"
        not in admin_change_form(officer, change_url(Municipality.objects.get(slug="sezana"))).names
    )


def test_a_coordinator_cannot_revert_another_municipalitys_record_through_history(persona):
    admin = logged_in(persona("admin"))
    form = admin_change_form(admin, change_url(komen()))
    form.set("mayor_name", "Vmesni Župan")
    assert form.submit("_save").status_code == 302
    created = komen().history.earliest("history_date")
    revert_url = reverse("admin:funding_municipality_simple_history", args=[komen().pk, created.pk])

    revert = admin_change_form(admin, revert_url)  # the revert page as a superuser gets it
    revert.client = logged_in(persona("koordinator"))
    assert revert.submit("_save").status_code == 403
    assert komen().mayor_name == "Vmesni Župan"

    # Komen's own officer may revert it.
    officer = logged_in(persona("uradnik.komen"))
    assert admin_change_form(officer, revert_url).submit("_save").status_code == 302
    assert komen().mayor_name == "mag. Erik Modic"
    assert komen().history.latest().history_user.username == "uradnik.komen"


def test_a_bulk_delete_of_another_municipality_is_refused(persona):
    pivka = Municipality.objects.create(name="Občina Pivka", short_name="Pivka", slug="pivka")
    coordinator_user = persona("koordinator")
    coordinator_user.user_permissions.add(Permission.objects.get(codename="delete_municipality"))
    changelist = reverse("admin:funding_municipality_changelist")

    # The confirmation page as a superuser gets it, confirmed by the coordinator.
    admin = logged_in(persona("admin"))
    form = open_form(admin, changelist, form_id="changelist-form")
    rows = [c.value for c in form.controls if c.name == "_selected_action"]
    assert str(pivka.pk) in rows
    form.set("action", "delete_selected").values["_selected_action"] = [str(pivka.pk)]
    confirm_page = form.submit("index")
    (confirm,) = [
        f for f in forms_of(admin, changelist, response=confirm_page) if "post" in f.names
    ]
    confirm.client = logged_in(coordinator_user)
    assert confirm.submit().status_code == 403
    assert Municipality.objects.filter(slug="pivka").exists()


def test_associations_and_programmes_change_only_by_their_strategys_coordinators(persona):
    coordinator = logged_in(persona("koordinator"))
    kras_association = Association.objects.get(slug="po-moc")
    other = Association.objects.get(slug="csd-kranj")  # in no strategy of Sežana
    assert "short_name" in admin_change_form(coordinator, change_url(kras_association)).names
    assert "short_name" not in admin_change_form(coordinator, change_url(other)).names
    programme = other.programmes.first()
    assert "name" not in admin_change_form(coordinator, change_url(programme)).names

    form = admin_change_form(logged_in(persona("admin")), change_url(other))
    form.set("short_name", "Ponarejeno")
    form.client = coordinator
    assert form.submit("_save").status_code == 403
    assert Association.objects.get(slug="csd-kranj").short_name == "CSD Kranj"

    form = admin_change_form(coordinator, change_url(kras_association))
    form.set("address", "Partizanska cesta 1, Sežana")
    assert form.submit("_save").status_code == 302
    assert kras_association.history.latest().history_user.username == "koordinator"


def test_institutions_change_by_those_with_the_permission_with_history(persona):
    institution = Institution.objects.get(short_name="FIHO")
    clerk = logged_in(persona("referent.sezana"))
    assert "name" not in admin_change_form(clerk, change_url(institution)).names
    form = admin_change_form(logged_in(persona("koordinator")), change_url(institution))
    form.set("name", "Fundacija FIHO")
    assert form.submit("_save").status_code == 302
    assert institution.history.latest().history_user.username == "koordinator"


# --- import_strategy ---------------------------------------------------------------------------


def unrelated_document(short_names: dict[str, str | None]) -> dict:
    """A strategy of its own naming three of the demo's municipalities."""
    municipalities = []
    for slug, share in zip(short_names, ["40.00", "35.00", "25.00"], strict=True):
        entry = {
            "slug": slug,
            "name": Municipality.objects.get(slug=slug).name,
            "share_percent": share,
        }
        if short_names[slug] is not None:
            entry["short_name"] = short_names[slug]
        municipalities.append(entry)
    return {
        "format": "strategy/v1",
        "slug": "obalna-2026",
        "title": "Druga strategija",
        "start_year": 2026,
        "end_year": 2026,
        "rounding_unit": "1",
        "municipalities": municipalities,
        "associations": [
            {
                "slug": "novo-drustvo",
                "name": "Novo društvo",
                "lines": [{"year": 2026, "category": "Stroški zaposlenih", "amount": "100"}],
            }
        ],
    }


def register_state():
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Municipality, Association, Institution, Programme, FundingStrategy)
    } | {"history": Municipality.history.count(), "shares": StrategyShare.objects.count()}


def run_import(tmp_path, document, *options) -> None:
    path = tmp_path / "strategija.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    call_command("import_strategy", str(path), *options, stdout=io.StringIO())


def refused_import(tmp_path, document, *options) -> str:
    """What the command said when it refused the document."""
    path = tmp_path / "strategija.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as refused, translation.override("en"):
        call_command("import_strategy", str(path), *options, stderr=err)
    return f"{err.getvalue()}\n{refused.value}"


def test_an_import_that_would_change_register_records_is_refused_naming_each(demo, tmp_path):
    document = unrelated_document({"sezana": "Sezana", "komen": "KOMEN", "divaca": "Divača"})
    before = register_state()
    report = refused_import(tmp_path, document)
    assert (
        "municipalities[0].short_name: the register's municipality Občina Sežana (sezana) has "
        '"Sežana"; the document has "Sezana"' in report
    ), report
    assert 'municipality Občina Komen (komen) has "Komen"; the document has "KOMEN"' in report
    assert "(2 problems)" in report
    assert "municipalities[2]" not in report  # Divača is as stored
    assert "--update-register" in report
    assert register_state() == before


def test_an_import_keeps_stored_values_the_document_leaves_empty(demo, tmp_path):
    document = unrelated_document({"sezana": None, "komen": "", "divaca": None})
    run_import(tmp_path, document)
    assert FundingStrategy.objects.filter(slug="obalna-2026").exists()
    short_names = dict(Municipality.objects.values_list("slug", "short_name"))
    assert (short_names["sezana"], short_names["komen"], short_names["divaca"]) == (
        "Sežana",
        "Komen",
        "Divača",
    )
    assert komen().mayor_name == "mag. Erik Modic"


def test_with_update_register_the_import_updates_and_records_history(demo, tmp_path):
    document = unrelated_document({"sezana": "Sezana", "komen": "KOMEN", "divaca": "Divača"})
    run_import(tmp_path, document, "--update-register", "--user", "admin")
    assert komen().short_name == "KOMEN"
    entry = komen().history.latest()
    assert entry.history_user.username == "admin"
    assert entry.history_type == "~"
    assert "import_strategy" in entry.history_change_reason
    assert Municipality.objects.get(slug="divaca").history.count() == 1  # unchanged: no entry


def test_update_register_refuses_records_the_importing_user_may_not_change(demo, tmp_path):
    document = unrelated_document({"sezana": "Sezana", "komen": "KOMEN", "divaca": "Divača"})
    before = register_state()
    report = refused_import(tmp_path, document, "--update-register", "--user", "koordinator")
    assert "koordinator may not change the register's municipality Občina Komen (komen)" in report
    assert "Občina Sežana" not in report  # the coordinator's own municipality
    assert register_state() == before


def kras_document() -> dict:
    out = io.StringIO()
    call_command("export_strategy", "kras-2025-2029", stdout=out)
    return json.loads(out.getvalue())


def test_associations_programmes_and_institutions_are_compared_as_well(demo, tmp_path):
    document = kras_document()
    document["institutions"][0]["name"] = "Fundacija FIHO"
    vezi = document["associations"][1]
    vezi["presentation"] = ""  # left empty: the stored presentation is kept
    vezi["address"] = "Nova ulica 1, Sežana"
    vezi["programmes"][0]["description"] = "Drugače opisan program"
    vezi["programmes"][0]["other_funders"] = ["FIHO"]
    before = register_state()
    report = refused_import(tmp_path, document)
    assert (
        "institutions[0].name: the register's institution FIHO (FIHO) has \"Fundacija za" in report
    )
    assert "associations[1].address: the register's association Društvo VEZI (vezi)" in report
    assert "associations[1].programmes[0].description: the register's programme" in report
    assert "associations[1].programmes[0].other_funders" in report
    assert "presentation" not in report
    assert "(4 problems)" in report
    assert register_state() == before

    run_import(tmp_path, document, "--update-register")
    association = Association.objects.get(slug="vezi")
    assert association.address == "Nova ulica 1, Sežana"
    assert association.presentation.startswith("1. Predstavitev društva")
    programme = association.programmes.get(position=0)
    assert programme.description == "Drugače opisan program"
    assert list(programme.other_funders.values_list("short_name", flat=True)) == ["FIHO"]
    assert programme.history.latest().history_change_reason == "import_strategy strategija.json"
    assert Institution.objects.get(short_name="FIHO").history.latest().history_type == "~"


def test_the_demo_reset_restores_a_changed_register_record(demo, settings):
    Municipality.objects.filter(slug="komen").update(mayor_name="Drug Župan")
    settings.DEBUG = True
    call_command("load_demo", "--without-adoption", "--base-year-only", stdout=io.StringIO())
    assert komen().mayor_name == "mag. Erik Modic"
    assert komen().history.latest().history_change_reason == "load_demo"


def test_the_refusal_speaks_slovenian_by_default(demo, tmp_path):
    path = tmp_path / "strategija.json"
    document = unrelated_document({"sezana": None, "komen": "KOMEN", "divaca": None})
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_strategy", str(path), stderr=err)
    assert (
        "municipalities[1].short_name: v registru ima občina Občina Komen (komen) vrednost "
        '"Komen", dokument pa "KOMEN"' in err.getvalue()
    )
    assert "uvozite z možnostjo --update-register" in err.getvalue()
