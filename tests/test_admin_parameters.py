"""Bad URL parameters of the admin: the list's own ``?e=1`` with a message, never a 500.

Regression tests for the addresses reported; the walk over every admin, filter and field is
``tests/test_url_walk.py``'s.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import translation

from config.admin_safety import SafeParametersMixin
from funding.models import BudgetItem, BudgetLine, FundingStrategy, StrategyShare
from tests.factories import BudgetItemFactory, BudgetLineFactory, ShareFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(persona):
    client = Client(raise_request_exception=False)
    client.force_login(persona("admin"))
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.mark.parametrize(
    ("url", "parameter", "value", "reason"),
    [
        ("/admin/funding/budgetline/?note__regex=(", "note__regex", "(", "regularnih izrazov"),
        ("/admin/programs/project/?end_date__year=0", "end_date__year", "0", "med 1 in 9999"),
        (
            "/admin/funding/strategyrevision/?in_force_on__year=99999",
            "in_force_on__year",
            "99999",
            "med 1 in 9999",
        ),
        ("/admin/funding/budgetline/?year=abc", "year", "abc", "celo število"),
        ("/admin/funding/budgetline/?amount__gt=1e999999", "amount__gt", "1e999999", "obsega"),
    ],
)
def test_a_bad_filter_sends_back_to_the_list_naming_the_parameter(
    admin_client, url, parameter, value, reason
):
    with translation.override("sl"):
        response = admin_client.get(url)
        assert response.status_code == 302
        assert response["Location"] == url.split("?")[0] + "?e=1"
        (message,) = messages_of(response)
    assert f"„{parameter}“" in message
    assert f"„{value}“" in message
    assert reason in message
    # The list it sends to answers.
    assert admin_client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("query", ["year=abc", "strategy__id__exact=abc", "note__iregex=["])
def test_a_bad_filter_of_an_export_sends_back_to_the_list(admin_client, query):
    response = admin_client.get(f"/admin/funding/budgetline/export/?{query}")
    assert response.status_code == 302
    assert response["Location"] == "/admin/funding/budgetline/?e=1"
    assert query.split("=")[0] in messages_of(response)[0]


def test_a_bad_initial_value_is_left_out_of_the_add_form(admin_client):
    response = admin_client.get("/admin/funding/budgetline/add/?strategy=abc&year=2026")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "strategy" not in form.initial
    assert form.initial["year"] == "2026"
    (warning,) = messages_of(response)
    assert "abc" in warning and "strategy" in warning


def test_every_admin_checks_its_parameters():
    """Registered by the project or a library, every admin gets the checks."""
    unchecked = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, SafeParametersMixin)
    ]
    assert not unchecked


@pytest.fixture
def deleted_strategy(demo):
    """A draft strategy with a share, a line and an item, then deleted with all of them."""
    share = ShareFactory(municipality=demo.lead_municipality)
    line = BudgetLineFactory(strategy=share.strategy)
    item = BudgetItemFactory(line=line, amount=line.amount)
    share.strategy.delete()
    assert not FundingStrategy.objects.filter(pk=share.strategy_id).exists()
    return {BudgetLine: line.pk, BudgetItem: item.pk, StrategyShare: share.pk}


@pytest.mark.parametrize("username", ["admin", "koordinator", "uradnik.sezana", "svetnik.sezana"])
def test_the_history_of_a_deleted_strategys_rows_is_not_found(deleted_strategy, persona, username):
    client = Client(raise_request_exception=False)
    client.force_login(persona(username))
    for model, pk in deleted_strategy.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        version = model.history.filter(id=pk).order_by("history_id").first().history_id
        for url in (
            reverse(f"{info}_history", args=[pk]),
            reverse(f"{info}_simple_history", args=[pk, version]),
        ):
            response = client.get(url)
            assert response.status_code == 404, (url, response.status_code)
