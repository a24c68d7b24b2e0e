"""Who may read a strategy's, a report's, a submission's or an action plan's documents.

Every view asks here. A role that reads no such documents is refused (403) whatever the
address names. A document the user's role reads but this user may not — another
municipality's strategy, a draft report for a council member — is not found (404), with the
page of one that does not exist: the answer must not tell outsiders which ids and slugs exist.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from funding.models import FundingStrategy, StrategyRevision
from funding.permissions import readable_strategies, reads_strategies
from programs.models import ActionPlan, AnnualReport, CouncilSubmission
from programs.permissions import readable_reports, readable_submissions, reads_reports


def strategy_for_reader(user, slug: str) -> FundingStrategy:
    """The strategy if the user may read its documents.

    The rule is ``funding.permissions``'s: the joint table is part of every participating
    council's documents, so each participant sees all of it.
    """
    if not reads_strategies(user):
        raise PermissionDenied
    strategy = readable_strategies(user).filter(slug=slug).first()
    if strategy is None:
        raise Http404(_("There is no strategy “%(slug)s”.") % {"slug": slug[:80]})
    return strategy


def revision_for_reader(user, pk: int) -> StrategyRevision:
    """A revision of a strategy the user may read."""
    if not reads_strategies(user):
        raise PermissionDenied
    revision = (
        StrategyRevision.objects.select_related("strategy")
        .filter(pk=pk, strategy__in=readable_strategies(user))
        .first()
    )
    if revision is None:
        raise Http404(_("There is no such revision of a strategy."))
    return revision


def report_for_reader(user, pk: int) -> AnnualReport:
    """The annual report if the user may read it.

    Drafts and submitted reports are readable only by the roles that write reports
    (``programs.permissions``).
    """
    if not reads_reports(user):
        raise PermissionDenied
    report = readable_reports(user).select_related("association", "programme").filter(pk=pk).first()
    if report is None:
        raise Http404(_("There is no annual report number %(number)s.") % {"number": pk})
    return report


def submission_for_reader(user, pk: int) -> CouncilSubmission:
    """A council submission: its report readable, and the council one of the user's."""
    if not reads_reports(user):
        raise PermissionDenied
    submission = (
        readable_submissions(user)
        .select_related("report__association", "municipality")
        .filter(pk=pk)
        .first()
    )
    if submission is None:
        raise Http404(_("There is no council submission number %(number)s.") % {"number": pk})
    return submission


def can_read_action_plans(user) -> bool:
    """Whether the user's role may read action plans.

    A plan is a national government document, not a municipality's: every role that may view
    plans reads all of them, whatever its municipalities.
    """
    return user.has_perm("programs.view_actionplan")


def action_plan_for_reader(user, slug: str) -> ActionPlan:
    """The action plan if the user's role may read plans."""
    if not can_read_action_plans(user):
        raise PermissionDenied
    plan = ActionPlan.objects.filter(slug=slug).first()
    if plan is None:
        raise Http404(_("There is no action plan “%(slug)s”.") % {"slug": slug[:80]})
    return plan
