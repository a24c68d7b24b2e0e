"""Who may read and who may edit an annual report: the rules every view and admin page applies.

- A superuser reads and edits everything.
- A report belongs to the municipalities it is reported to. Reading it takes a role that may
  view reports and a membership in one of them.
- Drafts and submitted reports are visible only to the roles that write reports (those with
  the change permission: officers and coordinators); council members and clerks see a report
  once it is published.
- Editing takes the change permission and a membership, and a report that is not yet
  published: a published report is what councils read, so it no longer changes.
"""

from django.db.models import QuerySet

from programs.models import AnnualReport


def _members_reports(user) -> QuerySet[AnnualReport]:
    return AnnualReport.objects.filter(
        pk__in=AnnualReport.objects.filter(municipalities__memberships__user=user).values("pk")
    )


def readable_reports(user) -> QuerySet[AnnualReport]:
    """The reports the user may read."""
    if not user.is_active:
        return AnnualReport.objects.none()
    if user.is_superuser:
        return AnnualReport.objects.all()
    if not user.has_perm("programs.view_annualreport"):
        return AnnualReport.objects.none()
    reports = _members_reports(user)
    if user.has_perm("programs.change_annualreport"):
        return reports
    return reports.filter(status=AnnualReport.Status.PUBLISHED)


def editable_reports(user) -> QuerySet[AnnualReport]:
    """The reports the user may change: the user's municipalities', not yet published."""
    if not user.is_active:
        return AnnualReport.objects.none()
    if user.is_superuser:
        reports = AnnualReport.objects.all()
    elif user.has_perm("programs.change_annualreport"):
        reports = _members_reports(user)
    else:
        return AnnualReport.objects.none()
    return reports.exclude(status=AnnualReport.Status.PUBLISHED)


def can_read_report(user, report: AnnualReport) -> bool:
    return readable_reports(user).filter(pk=report.pk).exists()


def can_edit_report(user, report: AnnualReport) -> bool:
    return editable_reports(user).filter(pk=report.pk).exists()
