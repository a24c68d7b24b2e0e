"""Who may read a strategy's, a report's, a submission's or an action plan's documents.

Every view asks here.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from funding.models import FundingStrategy
from funding.permissions import can_read_strategy
from programs.models import ActionPlan, AnnualReport, CouncilSubmission
from programs.permissions import can_read_report


def strategy_for_reader(user, slug: str) -> FundingStrategy:
    """The strategy if the user may read its documents; 404 if unknown, 403 if not allowed.

    The rule is ``funding.permissions``'s: the joint table is part of every participating
    council's documents, so each participant sees all of it.
    """
    strategy = FundingStrategy.objects.filter(slug=slug).first()
    if strategy is None:
        raise Http404(_("There is no strategy “%(slug)s”.") % {"slug": slug})
    if not can_read_strategy(user, strategy):
        raise PermissionDenied
    return strategy


def report_for_reader(user, pk: int) -> AnnualReport:
    """The annual report if the user may read it; 404 if unknown, 403 if not allowed.

    Drafts and submitted reports are readable only by the roles that write reports
    (``programs.permissions``).
    """
    report = AnnualReport.objects.select_related("association", "programme").filter(pk=pk).first()
    if report is None:
        raise Http404(_("There is no annual report number %(number)s.") % {"number": pk})
    if not can_read_report(user, report):
        raise PermissionDenied
    return report


def submission_for_reader(user, pk: int) -> CouncilSubmission:
    """A council submission: its report readable, and the council one of the user's."""
    submission = (
        CouncilSubmission.objects.select_related("report__association", "municipality")
        .filter(pk=pk)
        .first()
    )
    if submission is None:
        raise Http404(_("There is no council submission number %(number)s.") % {"number": pk})
    member = user.is_superuser or submission.municipality.memberships.filter(user=user).exists()
    if not (member and can_read_report(user, submission.report)):
        raise PermissionDenied
    return submission


def can_read_action_plans(user) -> bool:
    """Whether the user's role may read action plans.

    A plan is a national government document, not a municipality's: every role that may view
    plans reads all of them, whatever its municipalities.
    """
    return user.has_perm("programs.view_actionplan")


def action_plan_for_reader(user, slug: str) -> ActionPlan:
    """The action plan if the user's role may read plans; 404 if unknown, 403 if not allowed."""
    plan = ActionPlan.objects.filter(slug=slug).first()
    if plan is None:
        raise Http404(_("There is no action plan “%(slug)s”.") % {"slug": slug[:80]})
    if not can_read_action_plans(user):
        raise PermissionDenied
    return plan
