"""Every URL the application defines, with every demo persona and anonymously: never a 500.

The URLs come from walking ``django.urls.get_resolver()``, not from a list kept by hand, so a
new view is walked as soon as it is routed. Each pattern's parameters are filled with real
objects of the demo data (the first of each admin model, every strategy year, every format a
view accepts) and with bad values (an id that does not exist, garbage in a slug or an id, years
0 and 99999, an unknown format). Anonymous visitors must be sent to log in everywhere but the
login page itself, the home redirect and the language switch.

The demo is loaded whole (2026–2029 derived, the Kras strategy adopted and frozen, then an
amendment opened as a draft), so that the revision annex, the changes page and the later years
resolve to real objects. PDFs: every role requests every PDF URL, but WeasyPrint renders each
distinct HTML document once; the other roles get the same bytes from a cache keyed by the
HTML (the renderer is deterministic: same HTML, same bytes — ``reports.pdf.render_pdf_pages``).
The views, their access checks and the templates still run for every role.

Cost: about 600 URLs × 11 roles, 60–80 s on SQLite and 80–90 s on PostgreSQL on two shared
cores. The PDFs are not what costs (about 15 s, rendered once each); the ~6,000 admin and
report pages are, and they are the point of the walk, so it stays one whole walk. Bad values
go to every role too: the order of the permission check and the lookup differs by role.
"""

import io
import time
from dataclasses import dataclass
from itertools import product
from urllib.parse import quote, urlencode

import pytest
from axes.models import AccessFailureLog
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import models
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

import reports.action_plans
import reports.annex
import reports.pdf
import reports.urls
from funding.adoption import revision_open
from funding.models import FundingStrategy, Municipality, StrategyRevision
from programs.models import ActionPlan, AnnualReport, CouncilSubmission
from reports.documents import FORMATS
from reports.projection import FORMATS as PROJECTION_FORMATS
from tests.conftest import DEMO_SLUG, PERSONAS

pytestmark = pytest.mark.django_db

ROLES = [*PERSONAS, "uradnik.velenje", "svetnik.velenje", "svetnik.kranj"]
ANONYMOUS = None

# Ids and slugs nothing has: beyond any row, beyond a 64-bit integer, not a number at all.
MISSING_PK = "999999999"
HUGE_PK = "99999999999999999999999"
GARBAGE = "ni-tega-<b>ž"
BAD_IDS = [MISSING_PK, GARBAGE, HUGE_PK, "-1"]
BAD_YEARS = [0, 99999, 2024]
BAD_FORMAT = "exe"

# The GET parameters the report views read: a good value, one outside, one of garbage.
_MUNICIPALITY = [
    ("municipality=komen", False),
    ("municipality=velenje", True),
    ("municipality=%3Cb%3E%C5%BE", True),
]
_INSTITUTION = [("institution=MZ", False), ("institution=ni-take", True), ("institution=", True)]
QUERIES = {
    "reports:cost-sharing": _MUNICIPALITY,
    "reports:cost-sharing-file": _MUNICIPALITY,
    "reports:action-plan": _INSTITUTION,
    "reports:action-plan-file": _INSTITUTION,
    "reports:action-plan-progress": _INSTITUTION,
    "reports:action-plan-progress-file": _INSTITUTION,
}

# What an anonymous visitor reaches without being sent to log in: the login page, the home
# page's redirect to the admin, the language switch, the logout (which sends it to the index).
OPEN_TO_ANONYMOUS = {"admin:login", "", "set_language", "admin:logout"}


@dataclass
class Route:
    """One URL pattern: its namespaced name (or the route itself), and the admin model."""

    name: str
    route: str
    pattern: URLPattern
    model: type | None = None


@dataclass
class Target:
    """One URL to request, and which pattern and kind of value it came from."""

    url: str
    route: str
    bad: bool = False


def walk(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """Every URLPattern under the resolver, with its full route and namespaced name."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry, prefix + str(entry.pattern), inner)
        else:
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield prefix + str(entry.pattern), name, entry


def admin_model_of(route: str):
    """The admin's model whose URLs start the route (admin/<app>/<model>/…), or None."""
    for model in admin.site._registry:
        if route.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
            return model
    return None


def routes() -> list[Route]:
    return [
        Route(name or route, route, pattern, admin_model_of(route))
        for route, name, pattern in walk()
    ]


def expected_minimum() -> set[str]:
    """The named patterns the registry says must exist; the walk must find each of them."""
    names = {"", "admin:index", "admin:login", "admin:app_list", "set_language"}
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        names |= {f"{info}_{action}" for action in ("changelist", "add", "change", "delete")}
        names.add(f"{info}_history")
        if isinstance(model_admin, ImportExportMixin):
            names |= {f"{info}_import", f"{info}_process_import", f"{info}_export"}
        if isinstance(model_admin, SimpleHistoryAdmin):
            names.add(f"{info}_simple_history")
    names |= {f"reports:{pattern.name}" for pattern in reports.urls.urlpatterns}
    return names


# --- Values for the parameters ----------------------------------------------------------------


def first_pk(model) -> str | None:
    obj = model._default_manager.order_by("pk").first()
    return None if obj is None else str(obj.pk)


def admin_targets(route: Route) -> list[Target]:
    """The admin's URLs of one model: the first object, and ids that are missing or garbage."""
    name, model = route.name, route.model
    kwargs = route.pattern.pattern.converters
    if "simple_history" in name:
        obj = model._default_manager.order_by("pk").first()
        targets = [Target(reverse(name, args=[MISSING_PK, MISSING_PK]), name, bad=True)]
        if obj is not None:
            version = obj.history.order_by("history_id").first()
            targets.append(Target(reverse(name, args=[obj.pk, version.history_id]), name))
            targets.append(Target(reverse(name, args=[obj.pk, GARBAGE]), name, bad=True))
        return targets
    if not kwargs:
        return [Target(reverse(name), name)] if name != route.route else []
    if name == "admin:auth_user_password_change":
        return [
            Target(fill(route, id=value), name, bad=value != first_pk(model))
            for value in (first_pk(model), MISSING_PK, GARBAGE)
        ]
    assert set(kwargs) == {"object_id"}, route
    pk = first_pk(model)
    # Every bad id on the change page; the other pages share its lookup, two suffice there.
    bad_ids = BAD_IDS if name.endswith("_change") else BAD_IDS[:2]
    targets = [Target(fill(route, object_id=value), name, bad=True) for value in bad_ids]
    if pk is not None:
        targets.append(Target(fill(route, object_id=pk), name))
    return targets


def fill(route: Route, **values) -> str:
    """The route with its ``<converter:name>`` parts replaced by the values, URL-quoted."""
    url = route.route
    for key, value in values.items():
        url = url.replace(f"<path:{key}>", quote(str(value)))
        url = url.replace(f"<{key}>", quote(str(value)))
    return "/" + url


def report_values() -> dict[str, dict[str, tuple[list, list]]]:
    """For each reports URL, each parameter's good and bad values."""
    strategy = FundingStrategy.objects.get(slug=DEMO_SLUG)
    slugs = ([strategy.slug], ["ni-take-strategije"])
    years = (list(strategy.years), BAD_YEARS)
    participants = [share.municipality.slug for share in strategy.shares.all()]
    outsider = Municipality.objects.exclude(slug__in=participants).order_by("pk").first()
    plans = ([plan.slug for plan in ActionPlan.objects.all()], ["ni-takega-nacrta"])
    revisions = list(StrategyRevision.objects.values_list("pk", flat=True))
    reports_ = list(AnnualReport.objects.values_list("pk", flat=True))
    submissions = list(CouncilSubmission.objects.values_list("pk", flat=True))
    missing_pks = [int(MISSING_PK), int(HUGE_PK)]
    return {
        "reports:cost-sharing": {"slug": slugs, "year": years},
        "reports:cost-sharing-file": {
            "slug": slugs,
            "year": years,
            "fmt": (list(FORMATS), [BAD_FORMAT]),
        },
        "reports:strategy-annex": {"slug": slugs},
        "reports:strategy-resolution": {
            "slug": slugs,
            "municipality_slug": (participants, [outsider.slug, "ni-take-obcine"]),
        },
        "reports:strategy-changes": {"slug": slugs},
        "reports:projection": {"slug": slugs},
        "reports:projection-file": {
            "slug": slugs,
            "fmt": (list(PROJECTION_FORMATS), [BAD_FORMAT]),
        },
        "reports:revision-annex": {"pk": (revisions, missing_pks)},
        "reports:annual-report": {"pk": (reports_, missing_pks)},
        "reports:annual-report-file": {"pk": (reports_, missing_pks), "fmt": (["pdf"], ["html"])},
        "reports:council-submission": {"pk": (submissions, missing_pks)},
        "reports:action-plan": {"slug": plans},
        "reports:action-plan-file": {"slug": plans},
        "reports:action-plan-progress": {"slug": plans},
        "reports:action-plan-progress-file": {"slug": plans},
    }


def combinations(values: dict[str, tuple[list, list]]):
    """Every combination of good values, then each bad value with the others good."""
    names = list(values)
    for combo in product(*(values[name][0] for name in names)):
        yield dict(zip(names, combo, strict=True)), False
    for index, name in enumerate(names):
        for bad in values[name][1]:
            combo = {other: values[other][0][0] for other in names[index + 1 :] + names[:index]}
            yield {**combo, name: bad}, True


def targets_of(route: Route, values) -> list[Target]:
    if route.model is not None:
        return admin_targets(route)
    name = route.name
    if name in values:
        targets = []
        for kwargs, bad in combinations(values[name]):
            url = reverse(name, kwargs=kwargs)
            targets.append(Target(url, name, bad=bad))
            if (
                not bad
                and kwargs.get("year", 2025) == 2025
                and kwargs.get("fmt", "csv")
                in (
                    "csv",
                    "pdf",
                )
            ):
                targets += [
                    Target(f"{url}?{query}", name, bad=query_bad)
                    for query, query_bad in QUERIES.get(name, [])
                ]
        return targets
    if name == "admin:app_list":
        labels = {model._meta.app_label for model in admin.site._registry}
        return [Target(reverse(name, args=[label]), name) for label in sorted(labels)]
    if name == "admin:view_on_site":
        content_type = ContentType.objects.get_for_model(FundingStrategy)
        strategy_pk = FundingStrategy.objects.get(slug=DEMO_SLUG).pk
        return [
            Target(reverse(name, args=[content_type.pk, strategy_pk]), name),
            Target(reverse(name, args=[content_type.pk, MISSING_PK]), name, bad=True),
            Target(reverse(name, args=[GARBAGE, GARBAGE]), name, bad=True),
        ]
    if route.route == "admin/(?P<url>.*)$":  # the admin's catch-all
        return [
            Target("/admin/ni-tega/", route.route, bad=True),
            Target("/admin/funding/budgetline/1/ni/tega/", route.route, bad=True),
        ]
    if route.pattern.pattern.converters:
        raise AssertionError(f"no values for the parameters of {route.name}")
    if name == route.route:  # unnamed and without parameters: the home redirect
        return [Target("/" + route.route, route.route)]
    return [Target(reverse(name), name)]


# --- The walk ---------------------------------------------------------------------------------


@pytest.fixture
def full_demo(db, settings):
    """The whole demo (every year, adopted and frozen) with an amendment opened as a draft."""
    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    settings.DEBUG = False
    strategy = FundingStrategy.objects.get(slug=DEMO_SLUG)
    revision_open(strategy=strategy, reason="Sprememba za preizkus vseh naslovov.")
    # One failed and one good login through the form, so that django-axes's admin lists have
    # a record each (its failure log is off in the settings: that one is made by hand).
    login = reverse("admin:login")
    Client().post(login, {"username": "zunanji", "password": "napačno"})
    Client().post(login, {"username": "admin", "password": "demo"})
    AccessFailureLog.objects.create(
        username="zunanji", ip_address="127.0.0.1", user_agent="test", path_info=login
    )
    return strategy


@pytest.fixture
def pdf_cache(monkeypatch):
    """WeasyPrint once per distinct HTML document; the same bytes for the same HTML."""
    rendered: dict[str, tuple[bytes, int]] = {}
    real = reports.pdf.render_pdf_pages

    def cached(html: str) -> tuple[bytes, int]:
        if html not in rendered:
            rendered[html] = real(html)
        return rendered[html]

    for module in (reports.pdf, reports.annex, reports.action_plans):
        monkeypatch.setattr(module, "render_pdf_pages", cached)
    return rendered


def test_every_url_answers_every_role_without_a_server_error(full_demo, pdf_cache):
    started = time.monotonic()
    values = report_values()
    targets = [target for route in routes() for target in targets_of(route, values)]
    expected = expected_minimum()
    assert len(targets) >= len(expected)
    missing = expected - {target.route for target in targets if not target.bad}
    assert not missing, f"the walk has no real object for {sorted(missing)}"

    failures = []
    users = {user.username: user for user in get_user_model().objects.all()}
    login_url = reverse("admin:login")
    for role in [*ROLES, ANONYMOUS]:
        client = Client(raise_request_exception=False)
        if role is not ANONYMOUS:
            client.force_login(users[role])
        for target in targets:
            response = client.get(target.url)
            status = response.status_code
            if status >= 500:
                failures.append(f"{role}: GET {target.url} → {status}")
            elif role is ANONYMOUS and target.route not in OPEN_TO_ANONYMOUS:
                location = response.get("Location", "")
                if status != 302 or not location.startswith(login_url):
                    failures.append(
                        f"anonymous: GET {target.url} → {status} {location}, not sent to log in"
                    )
    print(
        f"\nwalked {len(targets)} URLs of {len({target.route for target in targets})} patterns "
        f"× {len(ROLES) + 1} roles in {time.monotonic() - started:.1f} s; "
        f"WeasyPrint rendered {len(pdf_cache)} distinct PDFs"
    )
    assert not failures, "\n".join(failures)


# --- Bad parameters: every list's filters and lookups, every export, every add form ------------

HUGE_NUMBER = "99999999999999999999"
# Fields whose form values are not free text: "abc" is no value of theirs.
TYPED_FIELDS = (models.IntegerField, models.DecimalField, models.DateField, models.BooleanField)


def bad_values(field) -> list[tuple[str, str]]:
    """(lookup suffix, value) pairs that no value of the field's type can satisfy."""
    if field.many_to_many:
        return [("", "abc"), ("__in", "1,abc")]
    if field.is_relation:
        return [("", "abc"), ("__exact", HUGE_NUMBER), ("__in", "1,abc")]
    if isinstance(field, models.DateField):  # and DateTimeField
        return [
            ("__year", "0"),
            ("__year", "99999"),
            ("__year__gt", "99999"),
            ("__month", "13"),
            ("", "abc"),
            ("__gte", "0000-01-01"),
        ]
    if isinstance(field, models.DecimalField):
        return [("", "abc"), ("__lt", "1e999999"), ("__in", "1,NaN")]
    if isinstance(field, models.IntegerField):  # and the automatic keys
        return [("", "abc"), ("__gt", HUGE_NUMBER), ("__in", "1,abc")]
    if isinstance(field, models.BooleanField):
        return [("", "abc")]
    if isinstance(field, (models.CharField, models.TextField)):
        return [("__regex", "("), ("__iregex", "[")]
    return []


def list_filter_parameters(model, model_admin) -> list[tuple[str, str]]:
    """Each list filter's own parameters, with values of the wrong type."""
    pairs = []
    for list_filter in model_admin.list_filter:
        path = list_filter[0] if isinstance(list_filter, (tuple, list)) else list_filter
        if not isinstance(path, str):
            pairs.append((list_filter.parameter_name, GARBAGE))  # a SimpleListFilter
            continue
        field = get_fields_from_path(model, path)[-1]
        if field.is_relation:
            target = field.related_model._meta.pk.name
            pairs += [(f"{path}__{target}__exact", "abc"), (f"{path}__{target}__exact", HUGE_PK)]
        else:
            pairs += [(f"{path}{suffix}", value) for suffix, value in bad_values(field)]
    return pairs


def field_parameters(model) -> list[tuple[str, str]]:
    """Every field's lookups with values of the wrong type, as anyone may type them."""
    fields = [f for f in model._meta.get_fields() if f.concrete or f.many_to_many]
    return [
        (f"{field.name}{suffix}", value)
        for field in fields
        if not (field.many_to_many and field.auto_created)
        for suffix, value in bad_values(field)
    ]


def bad_initial_values(model) -> dict[str, str]:
    """A wrong-typed initial value for each editable field an add form could prefill."""
    values = {}
    for field in model._meta.get_fields():
        if not (field.concrete or field.many_to_many) or field.auto_created:
            continue
        if not getattr(field, "editable", False):
            continue
        if field.many_to_many:
            values[field.name] = "1,abc"
        elif field.is_relation or isinstance(field, TYPED_FIELDS):
            values[field.name] = "abc"
    return values


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def test_every_list_export_and_add_form_refuses_bad_parameters_in_words(full_demo):
    """A bad filter sends back to the list's ``?e=1`` naming it; a bad initial value is left out.

    The parameters come from each registered admin's ``list_filter`` and its model's fields and
    their lookups: text for numbers, keys and dates, numbers beyond any column, years 0 and
    99999, month 13, broken regular expressions.
    """
    user = get_user_model().objects.get(username="admin")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    request = RequestFactory().get("/")
    request.user = user
    failures, walked = [], 0
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = reverse(f"{info}_changelist")
        pages = [changelist]
        if isinstance(model_admin, ImportExportMixin):
            pages.append(reverse(f"{info}_export"))
        pairs = list_filter_parameters(model, model_admin) + field_parameters(model)
        custom = {key for key, value in pairs if value == GARBAGE}
        for page, (key, value) in product(pages, pairs):
            url = f"{page}?{urlencode({key: value})}"
            response = client.get(url)
            walked += 1
            said = messages_of(response)
            if key in custom:
                if response.status_code >= 500:
                    failures.append(f"GET {url} → {response.status_code}")
            elif (
                response.status_code != 302
                or response["Location"] != f"{changelist}?e=1"
                or not any(f"„{key}“" in message for message in said)
            ):
                failures.append(
                    f"GET {url} → {response.status_code} {response.get('Location', '')} {said}"
                )
        if model_admin.has_add_permission(request):
            initial = bad_initial_values(model)
            url = f"{reverse(f'{info}_add')}?{urlencode(initial)}"
            response = client.get(url)
            walked += 1
            said = " ".join(messages_of(response))
            left_out = [name for name in initial if f"„{name}“" not in said]
            if response.status_code != 200 or left_out:
                failures.append(f"GET {url} → {response.status_code}, kept {left_out}")
    print(f"\nwalked {walked} bad parameters of {len(admin.site._registry)} admins")
    assert walked > 500
    assert not failures, "\n".join(failures)
