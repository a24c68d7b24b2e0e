"""Report pages and downloads: load through the access check, select, render."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from funding.adoption import revision_annex_pdf, sha256
from funding.permissions import readable_strategies
from programs.models import ActionPlan
from reports.access import (
    action_plan_for_reader,
    can_read_action_plans,
    report_for_reader,
    revision_for_reader,
    strategy_for_reader,
    submission_for_reader,
)
from reports.action_plans import (
    PlanDocument,
    action_plan_context,
    action_plan_document,
    find_institution,
    render_action_plan,
    render_action_plan_progress,
)
from reports.annex import current_annex, participant, render_resolution
from reports.annual import (
    annual_report_context,
    annual_report_filename,
    council_submission_filename,
    render_annual_report_pdf,
    render_council_submission_pdf,
)
from reports.diff import adopted_revision, strategy_changes
from reports.documents import FORMATS, cost_sharing_context, render_cost_sharing
from reports.projection import FORMATS as PROJECTION_FORMATS
from reports.projection import projection_context, render_projection, strategy_projection
from reports.selectors import CostSharingTable, cost_sharing_table, documents_by_year


class IncompleteKey(Exception):
    """The strategy's key cannot split its tables (FundingStrategy.key_problem)."""

    def __init__(self, strategy, problem: str):
        super().__init__(problem)
        self.strategy, self.problem = strategy, problem


def _strategy_to_split(request, slug: str):
    """The strategy for a document that splits its lines, if its key is complete."""
    strategy = strategy_for_reader(request.user, slug)
    problem = strategy.key_problem()
    if problem:
        raise IncompleteKey(strategy, problem)
    return strategy


def explains_incomplete_key(view):
    """Answer a document of a strategy whose key is incomplete with a page that says so.

    A key off 100,00 % (stored before the rule held on every path) or a new strategy without
    shares cannot split a table; the reader learns why instead of meeting an error (409).
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except IncompleteKey as error:
            context = {"strategy": error.strategy, "problem": error.problem}
            return render(request, "reports/key_incomplete.html", context, status=409)

    return wrapped


def _tables(request, slug: str, year: int) -> tuple[CostSharingTable, CostSharingTable]:
    """The joint table and the one asked for (a municipality's annex, or the joint one)."""
    strategy = _strategy_to_split(request, slug)
    if year not in strategy.years:
        raise Http404(
            _("The year %(year)s lies outside the strategy's period %(start)s–%(end)s.")
            % {"year": year, "start": strategy.start_year, "end": strategy.end_year}
        )
    table = cost_sharing_table(strategy, year)
    municipality = request.GET.get("municipality")
    if municipality is None:
        return table, table
    if municipality not in {column.slug for column in table.columns}:
        raise Http404(
            _("The municipality “%(slug)s” does not take part in this strategy.")
            % {"slug": municipality[:60]}
        )
    return table, table.for_municipality(municipality)


@login_required
@explains_incomplete_key
def cost_sharing_page(request, slug: str, year: int):
    joint, table = _tables(request, slug, year)
    query = f"?municipality={table.municipality.slug}" if table.municipality else ""
    formats = [
        {
            "label": fmt.upper(),
            "url": reverse("reports:cost-sharing-file", args=[slug, year, fmt]) + query,
        }
        for fmt in FORMATS
        if fmt != "html"
    ]
    context = {
        **cost_sharing_context(table),
        "formats": formats,
        "years": list(table.strategy.years),
        "all_columns": joint.columns,
    }
    return render(request, "reports/cost_sharing.html", context)


@login_required
@explains_incomplete_key
def cost_sharing_file(request, slug: str, year: int, fmt: str):
    if fmt not in FORMATS or fmt == "html":
        raise Http404(_("There is no “%(format)s” format.") % {"format": fmt[:20]})
    _joint, table = _tables(request, slug, year)
    rendered = render_cost_sharing(table, fmt)
    response = HttpResponse(rendered.content, content_type=rendered.content_type)
    disposition = "inline" if fmt in ("pdf", "json") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{rendered.filename}"'
    return response


@login_required
@explains_incomplete_key
def projection_page(request, slug: str):
    """Every association and municipality over the strategy's years, with the chart."""
    projection = strategy_projection(_strategy_to_split(request, slug))
    formats = [
        {"label": fmt.upper(), "url": reverse("reports:projection-file", args=[slug, fmt])}
        for fmt in PROJECTION_FORMATS
        if fmt != "html"
    ]
    context = {**projection_context(projection), "formats": formats}
    return render(request, "reports/projection.html", context)


@login_required
@explains_incomplete_key
def projection_file(request, slug: str, fmt: str):
    if fmt not in PROJECTION_FORMATS or fmt == "html":
        raise Http404(_("There is no “%(format)s” format.") % {"format": fmt[:20]})
    projection = strategy_projection(_strategy_to_split(request, slug))
    rendered = render_projection(projection, fmt)
    response = HttpResponse(rendered.content, content_type=rendered.content_type)
    disposition = "inline" if fmt == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{rendered.filename}"'
    return response


@login_required
def index(request):
    """The user's documents by year: annual reports and cost-sharing tables; projections."""
    context = {
        "years": documents_by_year(request.user),
        "strategies": readable_strategies(request.user).order_by("-start_year", "title"),
    }
    return render(request, "reports/index.html", context)


@login_required
def annual_report_page(request, pk: int):
    report = report_for_reader(request.user, pk)
    context = annual_report_context(report)
    context["warnings"] = [
        warning for entry in context["realisations"] for warning in entry["realisation"].warnings
    ]
    context["submissions"] = (
        report.council_submissions.filter(municipality__memberships__user=request.user)
        if not request.user.is_superuser
        else report.council_submissions.all()
    )
    return render(request, "reports/annual_report.html", context)


@login_required
def annual_report_file(request, pk: int, fmt: str):
    if fmt != "pdf":
        raise Http404(_("There is no “%(format)s” format.") % {"format": fmt[:20]})
    report = report_for_reader(request.user, pk)
    return _pdf_response(render_annual_report_pdf(report), annual_report_filename(report, "pdf"))


@login_required
def council_submission_file(request, pk: int):
    submission = submission_for_reader(request.user, pk)
    return _pdf_response(
        render_council_submission_pdf(submission), council_submission_filename(submission)
    )


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def strategy_changes_page(request, slug: str):
    """The live strategy against the version the councils adopted, line by line."""
    strategy = strategy_for_reader(request.user, slug)
    revision = adopted_revision(strategy)
    context = {
        "strategy": strategy,
        "revision": revision,
        "open_revision": strategy.latest_revision(),
        "changes": strategy_changes(strategy, revision) if revision else None,
    }
    return render(request, "reports/strategy_changes.html", context)


@login_required
@explains_incomplete_key
def revision_annex_file(request, pk: int):
    """A revision's annex: the adopted file, or the draft rendered now."""
    revision = revision_for_reader(request.user, pk)
    if not revision.is_frozen:
        _strategy_to_split(request, revision.strategy.slug)
    # An adopted revision's annex is the file stored on adoption, byte for byte.
    content = bytes(revision.annex_pdf) if revision.is_frozen else revision_annex_pdf(revision)
    number = f"-{revision.number}" if revision.number > 1 else ""
    response = _pdf_response(content, f"{revision.strategy.slug}-priloga{number}.pdf")
    # Whoever holds a signed annex compares this with the hash stored on adoption.
    response["X-Content-SHA256"] = sha256(content)
    return response


@login_required
@explains_incomplete_key
def strategy_annex_file(request, slug: str):
    """The strategy's annex: as adopted while in force, else the proposal (PREDLOG)."""
    rendered = current_annex(_strategy_to_split(request, slug))
    response = _pdf_response(rendered.content, rendered.filename)
    response["X-Content-SHA256"] = sha256(rendered.content)
    return response


@login_required
@explains_incomplete_key
def strategy_resolution_file(request, slug: str, municipality_slug: str):
    """One participating council's resolution (SKLEP) adopting the strategy."""
    strategy = _strategy_to_split(request, slug)
    municipality = participant(strategy, municipality_slug)
    if municipality is None:
        raise Http404(
            _("The municipality “%(slug)s” does not take part in this strategy.")
            % {"slug": municipality_slug[:60]}
        )
    rendered = render_resolution(strategy, municipality)
    return _pdf_response(rendered.content, rendered.filename)


@login_required
def action_plan_list(request):
    """The action plans, newest first, with their documents."""
    if not can_read_action_plans(request.user):
        raise PermissionDenied
    return render(request, "reports/action_plans.html", {"plans": ActionPlan.objects.all()})


def _plan_document(request, slug: str) -> PlanDocument:
    """The plan's document, limited to one institution's activities by ``?institution=``."""
    plan = action_plan_for_reader(request.user, slug)
    short_name = request.GET.get("institution", "").strip()
    institution = None
    if short_name:
        institution = find_institution(short_name)
        if institution is None:
            raise Http404(_("There is no institution “%(name)s”.") % {"name": short_name[:60]})
    return action_plan_document(plan, institution=institution)


@login_required
def action_plan_page(request, slug: str, progress: bool = False):
    """The plan's table by chapter, or its progress report; ``?institution=`` limits either."""
    template = "reports/action_plan_progress.html" if progress else "reports/action_plan.html"
    return render(request, template, action_plan_context(_plan_document(request, slug)))


@login_required
def action_plan_file(request, slug: str, progress: bool = False):
    document = _plan_document(request, slug)
    rendered = render_action_plan_progress(document) if progress else render_action_plan(document)
    return _pdf_response(rendered.content, rendered.filename)
