"""Every persona × every admin: filters, choice lists and autocompletes offer only what it may.

Generated from the registered admins: for each changelist, every relation filter lists only
rows the persona may read; for each add and change page, every choice list rendered (inlines'
included) offers only rows the persona may choose for a write; every autocomplete answers only
those. Reviewers found "Po strategija" listing the title of another pair of municipalities'
draft strategy to a clerk of Sežana, and the reallocation inline offering Kranj's items.
"""

import contextlib
import json

import pytest
from django.contrib import admin
from django.contrib.admin.filters import RelatedFieldListFilter
from django.forms import ModelChoiceField
from django.urls import NoReverseMatch, reverse

from funding.models import (
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    InKindSupport,
    MunicipalBudgetItem,
    StrategyRevision,
)
from funding.permissions import (
    editable_municipalities,
    editable_strategies,
    readable_municipalities,
    readable_strategies,
)
from programs.models import AnnualReport, Project
from programs.permissions import readable_projects, readable_reports
from tests.pages import forms_of
from tests.test_permission_matrix import komen_strategy  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

CHECKED: dict[str, int] = {}

PERSONAS = [
    "admin",
    "koordinator",
    "uradnik.sezana",
    "uradnik.komen",
    "svetnik.sezana",
    "referent.sezana",
    "uradnik.velenje",
    "svetnik.kranj",
]


def _by_strategy(model, path, strategies):
    return model.objects.filter(**{f"{path}__in": strategies})


def readable(user) -> dict:
    """What the persona may read, straight from the permission rules."""
    strategies = readable_strategies(user)
    return {
        FundingStrategy: strategies,
        BudgetLine: _by_strategy(BudgetLine, "strategy", strategies),
        BudgetItem: _by_strategy(BudgetItem, "line__strategy", strategies),
        InKindSupport: _by_strategy(InKindSupport, "strategy", strategies),
        StrategyRevision: _by_strategy(StrategyRevision, "strategy", strategies),
        MunicipalBudgetItem: MunicipalBudgetItem.objects.filter(
            municipality__in=readable_municipalities(user)
        ),
        AnnualReport: readable_reports(user),
        Project: readable_projects(user),
    }


def choosable(user) -> dict:
    """What a write by the persona may point at."""
    strategies = editable_strategies(user)
    return {
        **readable(user),
        FundingStrategy: strategies,
        BudgetLine: _by_strategy(BudgetLine, "strategy", strategies),
        BudgetItem: _by_strategy(BudgetItem, "line__strategy", strategies),
        InKindSupport: _by_strategy(InKindSupport, "strategy", strategies),
        MunicipalBudgetItem: MunicipalBudgetItem.objects.filter(
            municipality__in=editable_municipalities(user)
        ),
    }


def ids(queryset) -> set[str]:
    return {str(pk) for pk in queryset.values_list("pk", flat=True)}


def our_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ("funding", "programs")
    ]


def url_of(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def check_filters(client, model, allowed, problems):
    response = client.get(url_of(model, "changelist"))
    if response.status_code != 200:
        return None
    for spec in response.context["cl"].filter_specs:
        if not isinstance(spec, RelatedFieldListFilter):
            continue
        related = spec.field.related_model
        if related in allowed:
            offered = {str(pk) for pk, _label in spec.lookup_choices}
            CHECKED["filters"] += 1
            if extra := offered - ids(allowed[related]):
                problems.append(f"{model.__name__} filter {spec.field_path}: {sorted(extra)}")
    return response.context["cl"].result_list


def rendered_choice_fields(response):
    """(name on the page, related model) of every choice field of the page's forms."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [*inline.formset.forms, inline.formset.empty_form]
    for form in forms:
        for name, field in form.fields.items():
            if isinstance(field, ModelChoiceField):
                yield form.add_prefix(name), field.queryset.model


def check_form_choices(client, url, allowed, problems):
    response = client.get(url)
    if response.status_code != 200 or "adminform" not in (response.context or {}):
        return
    (page_form,) = [f for f in forms_of(client, url, response) if f.form_id.endswith("_form")]
    for name, related in rendered_choice_fields(response):
        if related not in allowed or name not in page_form.names:
            continue
        offered = {value for value in page_form.options(name) if value}
        CHECKED["choices"] += 1
        if extra := offered - ids(allowed[related]):
            problems.append(f"{url} {name}: {sorted(extra)}")


def check_autocompletes(client, model, model_admin, allowed, problems):
    for name in model_admin.autocomplete_fields:
        related = model._meta.get_field(name).related_model
        if related not in allowed:
            continue
        response = client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": name,
            },
        )
        if response.status_code != 200:
            continue
        offered = {row["id"] for row in json.loads(response.content)["results"]}
        CHECKED["autocompletes"] += 1
        if extra := offered - ids(allowed[related]):
            problems.append(f"autocomplete {model.__name__}.{name}: {sorted(extra)}")


@pytest.mark.parametrize("username", PERSONAS)
def test_every_filter_choice_and_autocomplete_offers_only_what_the_persona_may(
    persona,
    client,
    komen_strategy,  # noqa: F811
    username,
):
    user = persona(username)
    client.force_login(user)
    may_read, may_choose = readable(user), choosable(user)
    problems: list[str] = []
    CHECKED.update(filters=0, choices=0, autocompletes=0)
    for model, model_admin in our_admins():
        listed = check_filters(client, model, may_read, problems)
        with contextlib.suppress(NoReverseMatch):  # admins without an add page
            check_form_choices(client, url_of(model, "add"), may_choose, problems)
        if listed:
            check_form_choices(client, url_of(model, "change", listed[0].pk), may_choose, problems)
        check_autocompletes(client, model, model_admin, may_choose, problems)
    assert problems == []
    # Not vacuous: a filter with one choice is not shown, but every persona meets some lists.
    assert CHECKED["autocompletes"] > 0 and sum(CHECKED.values()) >= 5, CHECKED
    if username in ("admin", "koordinator", "uradnik.velenje"):  # those who may add
        assert CHECKED["choices"] > 0, CHECKED


def test_a_clerk_of_sezana_does_not_see_komens_strategy_in_any_filter(
    persona,
    client,
    komen_strategy,  # noqa: F811
):
    client.force_login(persona("referent.sezana"))
    for model, _model_admin in our_admins():
        response = client.get(url_of(model, "changelist"))
        if response.status_code == 200:
            assert komen_strategy.title not in response.content.decode(), model.__name__
