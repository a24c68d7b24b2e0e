"""The product's roles as Django groups, and the model permissions each role holds.

Per-municipality scoping (an officer sees only the data of the municipalities of its
memberships) is enforced on top of these permissions by the views and admin.
"""

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_noop

COORDINATOR = gettext_noop("Strategy coordinator")
OFFICER = gettext_noop("Municipal officer")
COUNCIL_MEMBER = gettext_noop("Council member")
CLERK = gettext_noop("Clerk")

_STRATEGY_MODELS = [
    "funding.fundingstrategy",
    "funding.strategyshare",
    "funding.strategyassociation",
    "funding.budgetline",
    "funding.budgetitem",
    "funding.inkindsupport",
    "funding.indexationrate",
]
# A strategy's revisions and the councils' adoptions: the coordinator records them.
_ADOPTION_MODELS = ["funding.strategyrevision", "funding.strategyadoption"]
_REGISTER_MODELS = [
    "funding.municipality",
    "programs.association",
    "programs.programme",
    "programs.institution",
]
_MUNICIPAL_MODELS = [
    "funding.municipalbudgetitem",
    "funding.allocation",
    "funding.reallocation",
    "funding.statedrealisation",
]
# Annual reports and what hangs off them; the admin edits the children through inlines.
_REPORT_MODELS = [
    "programs.project",
    "programs.annualreport",
    "programs.reportsection",
    "programs.reportfunding",
    "programs.indicator",
    "programs.reportsignatory",
    "programs.councilsubmission",
    "programs.submissionsignatory",
]
# Action plans (akcijski načrti) with their chapters, objectives, activities and progress.
_ACTION_PLAN_MODELS = [
    "programs.actionplan",
    "programs.planchapter",
    "programs.objective",
    "programs.activity",
    "programs.activityinstitution",
    "programs.planfunding",
    "programs.activityprogress",
]
_ALL = ("view", "add", "change", "delete")
# Those who keep plans remove a mistaken activity, partner or progress note; a whole plan is
# removed only by a superuser.
_ACTION_PLAN_EDITING = {
    **dict.fromkeys(_ACTION_PLAN_MODELS, _ALL),
    "programs.actionplan": ("view", "add", "change"),
}
# What the reading roles see.
_READ_MODELS = (
    _STRATEGY_MODELS
    + _REGISTER_MODELS
    + _MUNICIPAL_MODELS
    + _REPORT_MODELS
    + _ADOPTION_MODELS
    + _ACTION_PLAN_MODELS
)

ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    COORDINATOR: {
        **dict.fromkeys(_STRATEGY_MODELS, _ALL),
        **dict.fromkeys(_REGISTER_MODELS, ("view", "add", "change")),
        **dict.fromkeys(_REPORT_MODELS, ("view", "add", "change")),
        **dict.fromkeys(_ADOPTION_MODELS, ("view", "add", "change")),
        **_ACTION_PLAN_EDITING,
    },
    # Officers edit their own municipality's budget items (scoped in the admin by membership),
    # and keep their own municipality's record — a new mayor after an election, the statute
    # article — which only members of that municipality may change (funding.permissions).
    OFFICER: {
        **dict.fromkeys(_STRATEGY_MODELS + _REGISTER_MODELS + _ADOPTION_MODELS, ("view",)),
        "funding.municipality": ("view", "change"),
        **dict.fromkeys(_MUNICIPAL_MODELS + _REPORT_MODELS, _ALL),
        **_ACTION_PLAN_EDITING,
    },
    # Readers: they see reports once published (programs.permissions).
    COUNCIL_MEMBER: dict.fromkeys(_READ_MODELS, ("view",)),
    CLERK: dict.fromkeys(_READ_MODELS, ("view",)),
}


def roles_ensure() -> dict[str, Group]:
    """Create or update the role groups so they hold exactly their permissions."""
    # One query for all permissions: the demo loader (and every test that loads it) calls this.
    by_name = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type")
    }
    groups = {}
    for role, models in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        permissions = []
        for model_label, actions in models.items():
            app_label, model = model_label.split(".")
            permissions += [by_name[(app_label, f"{action}_{model}")] for action in actions]
        group.permissions.set(permissions)
        groups[role] = group
    return groups
