"""Who may read and who may edit an annual report: the rules every view and admin page applies.

- A superuser reads and edits everything.
- A report belongs to the municipalities it is reported to. Reading it takes a role that may
  view reports and a membership in one of them.
- Drafts and submitted reports are visible only to the roles that write reports (those with
  the change permission: officers and coordinators); council members and clerks see a report
  once it is published.
- Editing takes the change permission and a membership, and a report that is not yet
  published: a published report is what councils read, so it no longer changes.
- A project shown by reports (listed, or measured by their indicators) is read with any of
  them and changed only by those who may edit every one of them.

Register records shared by strategies and reports are read by every role; who may change them
is decided by ``can_change_register_record`` (and the querysets it is built from).
"""

from django.db.models import Model, Q, QuerySet

from funding.models import Municipality
from funding.permissions import can_change_municipality_record, member_municipalities
from programs.models import (
    AnnualReport,
    Association,
    CouncilSubmission,
    Institution,
    Programme,
    Project,
)


def _members_reports(user) -> QuerySet[AnnualReport]:
    return AnnualReport.objects.filter(
        pk__in=AnnualReport.objects.filter(municipalities__memberships__user=user).values("pk")
    )


def reads_reports(user) -> bool:
    """Whether the user's role reads annual reports at all, whichever they are."""
    return user.is_active and (user.is_superuser or user.has_perm("programs.view_annualreport"))


def readable_reports(user) -> QuerySet[AnnualReport]:
    """The reports the user may read."""
    if not reads_reports(user):
        return AnnualReport.objects.none()
    if user.is_superuser:
        return AnnualReport.objects.all()
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


def readable_submissions(user) -> QuerySet[CouncilSubmission]:
    """The council submissions the user may read: of a readable report, to one's own council."""
    return CouncilSubmission.objects.filter(
        report__in=readable_reports(user), municipality__in=member_municipalities(user)
    )


def can_read_report(user, report: AnnualReport) -> bool:
    return readable_reports(user).filter(pk=report.pk).exists()


def can_edit_report(user, report: AnnualReport) -> bool:
    return editable_reports(user).filter(pk=report.pk).exists()


def _shown_by_reports(reports: QuerySet[AnnualReport]) -> Q:
    return Q(annual_reports__in=reports) | Q(indicators__report__in=reports)


def readable_projects(user) -> QuerySet[Project]:
    """Projects the user may read: those of no report yet, and those of reports the user reads.

    A project belongs to its association (the shared register) until a report shows it.
    """
    if not user.is_active or not user.has_perm("programs.view_project"):
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    in_reports = Project.objects.filter(_shown_by_reports(AnnualReport.objects.all()))
    readable = Project.objects.filter(_shown_by_reports(readable_reports(user)))
    return Project.objects.filter(~Q(pk__in=in_reports.values("pk")) | Q(pk__in=readable))


def editable_projects(user) -> QuerySet[Project]:
    """Projects the user may change: every report that shows one must be editable by the user."""
    if not user.is_active or not user.has_perm("programs.change_project"):
        return Project.objects.none()
    others = AnnualReport.objects.exclude(pk__in=editable_reports(user).values("pk"))
    shown_elsewhere = Project.objects.filter(_shown_by_reports(others))
    return readable_projects(user).exclude(pk__in=shown_elsewhere.values("pk"))


def changeable_associations(user, action: str = "change") -> QuerySet[Association]:
    """The associations whose record the user may change (or, with "delete", delete).

    A superuser may change any. Anyone else needs the model permission and a membership in
    the lead municipality of a strategy the association is part of: the coordinators who
    present the association in that strategy's annex. An association in no strategy (known
    only from reports) is changed by a superuser.
    """
    if not user.is_active:
        return Association.objects.none()
    if user.is_superuser:
        return Association.objects.all()
    if not user.has_perm(f"programs.{action}_association"):
        return Association.objects.none()
    return _of_coordinated_strategies(user)


def changeable_programmes(user, action: str = "change") -> QuerySet[Programme]:
    """The programmes the user may change: those of associations as ``changeable_associations``
    decides, with the programme permission."""
    if not user.is_active:
        return Programme.objects.none()
    if user.is_superuser:
        return Programme.objects.all()
    if not user.has_perm(f"programs.{action}_programme"):
        return Programme.objects.none()
    return Programme.objects.filter(association__in=_of_coordinated_strategies(user))


def changeable_institutions(user, action: str = "change") -> QuerySet[Institution]:
    """The institutions (ministries, funds, public bodies) whose record the user may change.

    Institutions belong to no municipality: a superuser or anyone with the model permission
    (the coordinators) keeps them.
    """
    if not user.is_active:
        return Institution.objects.none()
    if user.is_superuser or user.has_perm(f"programs.{action}_institution"):
        return Institution.objects.all()
    return Institution.objects.none()


def _of_coordinated_strategies(user) -> QuerySet[Association]:
    return Association.objects.filter(
        pk__in=Association.objects.filter(
            strategies__lead_municipality__memberships__user=user
        ).values("pk")
    )


def can_change_register_record(user, record: Model, action: str = "change") -> bool:
    """Whether the user may change (or, with "delete", delete) a shared register record:
    a municipality, an association, a programme or an institution. Every path that changes
    one asks this: the admin pages and their bulk actions, history reverts, strategy imports."""
    if isinstance(record, Municipality):
        return can_change_municipality_record(user, record, action)
    changeable = {
        Association: changeable_associations,
        Programme: changeable_programmes,
        Institution: changeable_institutions,
    }[type(record)]
    return changeable(user, action).filter(pk=record.pk).exists()
