"""Report pages and downloads: load through the access check, select, render."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from reports.access import strategy_for_reader
from reports.documents import FORMATS, cost_sharing_context, render_cost_sharing
from reports.selectors import CostSharingTable, cost_sharing_table


def _tables(request, slug: str, year: int) -> tuple[CostSharingTable, CostSharingTable]:
    """The joint table and the one asked for (a municipality's annex, or the joint one)."""
    strategy = strategy_for_reader(request.user, slug)
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
def cost_sharing_file(request, slug: str, year: int, fmt: str):
    if fmt not in FORMATS or fmt == "html":
        raise Http404(_("There is no “%(format)s” format.") % {"format": fmt[:20]})
    _joint, table = _tables(request, slug, year)
    rendered = render_cost_sharing(table, fmt)
    response = HttpResponse(rendered.content, content_type=rendered.content_type)
    disposition = "inline" if fmt in ("pdf", "json") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{rendered.filename}"'
    return response
