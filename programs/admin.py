"""Admin for associations, programmes, projects, annual reports and council submissions."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from funding.admin import RegisterRecordAdmin, SpreadsheetAdmin
from funding.admin_scoping import LockedRowsAdmin, ScopedChoicesMixin
from funding.forms import FIELDS_AS_TYPED
from funding.models import MunicipalBudgetItem, money
from funding.permissions import member_municipalities
from programs.forms import ResponsibleInstitutionFormSet
from programs.models import (
    ActionPlan,
    Activity,
    ActivityInstitution,
    ActivityProgress,
    AnnualReport,
    Association,
    CouncilSubmission,
    Indicator,
    Institution,
    Objective,
    PlanChapter,
    PlanFunding,
    Programme,
    Project,
    ReportFunding,
    ReportSection,
    ReportSignatory,
    SubmissionSignatory,
)
from programs.permissions import (
    can_change_register_record,
    changeable_associations,
    editable_projects,
    editable_reports,
    readable_projects,
    readable_reports,
    readable_submissions,
)
from programs.resources import ActivityResource
from programs.services import council_submission_create, report_advance


class ProgrammeInline(admin.StackedInline):
    """An association's programmes: changed by those who may change the association."""

    model = Programme
    formfield_overrides = FIELDS_AS_TYPED
    extra = 0
    filter_horizontal = ["other_funders"]
    fields = [
        ("name", "kind"),
        "description",
        ("start_year", "end_year"),
        ("verified_until", "ministry_funding_period"),
        "target_groups",
        "locations",
        "other_funders",
        ("cofunded_by_strategy", "position"),
    ]

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._may(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may(request, obj)

    def _may(self, request, association) -> bool:
        return association is None or can_change_register_record(request.user, association)


@admin.register(Association)
class AssociationAdmin(RegisterRecordAdmin):
    list_display = ["short_name", "name", "legal_status", "address"]
    list_filter = ["legal_status"]
    search_fields = ["name", "short_name", "slug", "registration_number", "tax_number"]
    prepopulated_fields = {"slug": ["short_name"]}
    inlines = [ProgrammeInline]


@admin.register(Programme)
class ProgrammeAdmin(RegisterRecordAdmin):
    list_display = ["name", "association", "kind", "start_year", "end_year", "cofunded_by_strategy"]
    list_filter = ["kind", "cofunded_by_strategy", "association"]
    search_fields = ["name", "description", "association__short_name"]
    autocomplete_fields = ["association"]
    filter_horizontal = ["other_funders"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A programme is added to (or moved to) only an association the user may change.
        if db_field.name == "association":
            kwargs["queryset"] = changeable_associations(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Institution)
class InstitutionAdmin(RegisterRecordAdmin):
    list_display = ["short_name", "name"]
    search_fields = ["short_name", "name"]


@admin.register(Project)
class ProjectAdmin(ScopedChoicesMixin, LockedRowsAdmin, admin.ModelAdmin):
    """Projects of no report yet, or of the user's reports; a published report's are kept."""

    formfield_overrides = FIELDS_AS_TYPED
    list_display = ["name", "association", "start_date", "end_date", "lead_partner"]
    list_filter = ["association"]
    search_fields = ["name", "description", "partners__short_name", "partners__name"]
    autocomplete_fields = ["association", "lead_partner"]
    filter_horizontal = ["partners", "funders"]
    date_hierarchy = "start_date"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=readable_projects(request.user))

    def _may_edit(self, request, obj) -> bool:
        return obj is None or editable_projects(request.user).filter(pk=obj.pk).exists()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)


class ReportChildInline(ScopedChoicesMixin):
    """A report's parts are edited with the report, and only while the user may edit it."""

    extra = 0
    formfield_overrides = FIELDS_AS_TYPED

    def _may_edit(self, request, obj) -> bool:
        return obj is None or editable_reports(request.user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)


class ReportSectionInline(ReportChildInline, admin.StackedInline):
    model = ReportSection
    fields = [("heading", "position"), "body"]


class ReportFundingInline(ReportChildInline, admin.TabularInline):
    model = ReportFunding
    fields = ["position", "source", "amount", "share_percent", "note"]


class IndicatorInline(ReportChildInline, admin.TabularInline):
    model = Indicator
    fields = [
        "position",
        "project",
        "name",
        "kind",
        "unit",
        "planned",
        "achieved",
        "achieved_by_association",
    ]


class ReportSignatoryInline(ReportChildInline, admin.TabularInline):
    model = ReportSignatory
    fields = ["position", "name", "function"]


class AnnualReportForm(forms.ModelForm):
    class Meta:
        model = AnnualReport
        fields = [
            "association",
            "programme",
            "year",
            "title",
            "number",
            "date",
            "municipalities",
            "users",
            "users_women",
            "users_men",
            "relatives",
            "first_contacts_users",
            "first_contacts_relatives",
            "events",
            "professionals",
            "public_workers",
            "volunteers",
            "budget_items",
            "projects",
            "prepared_by",
        ]

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("year")
        association = cleaned.get("association")
        for project in cleaned.get("projects") or []:
            if association and project.association_id != association.pk:
                self.add_error(
                    "projects",
                    ValidationError(
                        _("The project “%(project)s” is not %(association)s's."),
                        code="other_association",
                        params={"project": project.name, "association": association},
                    ),
                )
            elif year and not project.covers(year):
                self.add_error(
                    "projects",
                    ValidationError(
                        _("The project “%(project)s” does not run in %(year)s."),
                        code="outside_project_period",
                        params={"project": project.name, "year": year},
                    ),
                )
        return cleaned


@admin.register(AnnualReport)
class AnnualReportAdmin(ScopedChoicesMixin, LockedRowsAdmin, admin.ModelAdmin):
    """Reports of the user's municipalities; published ones are read-only for everyone."""

    form = AnnualReportForm
    formfield_overrides = FIELDS_AS_TYPED
    list_display = ["title", "association", "year_column", "status", "documents"]
    list_filter = ["status", "year", "association", "municipalities"]
    search_fields = ["title", "association__short_name", "programme__name", "number"]
    autocomplete_fields = ["association", "programme"]
    filter_horizontal = ["municipalities", "budget_items", "projects"]
    readonly_fields = ["status", "submitted_at", "published_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "association",
                    "programme",
                    "year",
                    "title",
                    ("number", "date"),
                    ("status", "submitted_at", "published_at"),
                    "municipalities",
                ]
            },
        ),
        (
            _("People reached"),
            {
                "fields": [
                    ("users", "users_women", "users_men"),
                    "relatives",
                    ("first_contacts_users", "first_contacts_relatives"),
                    "events",
                ]
            },
        ),
        (_("Staff"), {"fields": [("professionals", "public_workers", "volunteers")]}),
        (_("Money and projects"), {"fields": ["budget_items", "projects"]}),
        (_("Signatures"), {"fields": ["prepared_by"]}),
    ]
    inlines = [ReportSectionInline, IndicatorInline, ReportFundingInline, ReportSignatoryInline]
    actions = ["advance_status", "prepare_council_submissions"]

    def get_queryset(self, request):
        return readable_reports(request.user).select_related("association", "programme")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        return editable_reports(request.user).filter(pk=obj.pk).exists()

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        return editable_reports(request.user).filter(pk=obj.pk).exists()

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # A report goes only to the user's own municipalities and their budget items.
        mine = member_municipalities(request.user)
        if db_field.name == "municipalities":
            kwargs["queryset"] = mine
        elif db_field.name == "budget_items":
            kwargs["queryset"] = MunicipalBudgetItem.objects.filter(
                municipality__in=mine
            ).select_related("municipality")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("year"), ordering="year")
    def year_column(self, report):
        return str(report.year)

    @admin.display(description=_("documents"))
    def documents(self, report):
        return format_html(
            '<a href="{}">HTML</a> · <a href="{}">PDF</a>',
            reverse("reports:annual-report", args=[report.pk]),
            reverse("reports:annual-report-file", args=[report.pk, "pdf"]),
        )

    # Offered only to those who may change reports: a council member's list shows no action
    # that would only answer with a refusal.
    @admin.action(
        description=_("Move on: submit drafts, publish submitted reports"), permissions=["change"]
    )
    def advance_status(self, request, queryset):
        editable = editable_reports(request.user)
        moved = 0
        for report in queryset:
            if not editable.filter(pk=report.pk).exists():
                self.message_user(
                    request,
                    _("“%(report)s” cannot be changed by you.") % {"report": report.title},
                    messages.ERROR,
                )
                continue
            try:
                report_advance(report=report)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(
                request,
                ngettext("%(count)d report moved on.", "%(count)d reports moved on.", moved)
                % {"count": moved},
                messages.SUCCESS,
            )

    def has_prepare_submissions_permission(self, request):
        return request.user.has_perm("programs.add_councilsubmission")

    @admin.action(
        description=_("Prepare council submissions for the selected reports"),
        permissions=["prepare_submissions"],
    )
    def prepare_council_submissions(self, request, queryset):
        if not request.user.has_perm("programs.add_councilsubmission"):
            self.message_user(request, _("You may not prepare council submissions."), "error")
            return
        mine = member_municipalities(request.user)
        created = 0
        for report in queryset:
            for municipality in report.municipalities.filter(pk__in=mine):
                if report.council_submissions.filter(municipality=municipality).exists():
                    continue
                try:
                    council_submission_create(report=report, municipality=municipality)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    created += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d council submission prepared; edit its resolution below.",
                "%(count)d council submissions prepared; edit their resolutions below.",
                created,
            )
            % {"count": created},
            messages.SUCCESS,
        )


class SubmissionSignatoryInline(admin.TabularInline):
    model = SubmissionSignatory
    formfield_overrides = FIELDS_AS_TYPED
    extra = 0
    fields = ["position", "name", "function"]


@admin.register(CouncilSubmission)
class CouncilSubmissionAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """Submissions to the councils of the user's municipalities, for reports the user reads."""

    formfield_overrides = FIELDS_AS_TYPED
    list_display = ["subject", "council", "report", "date", "pdf"]
    list_filter = ["municipality"]
    search_fields = ["subject", "council", "report__title"]
    autocomplete_fields = ["report"]
    fields = [
        ("report", "municipality"),
        "council",
        "subject",
        "body",
        "include_figures",
        "proposal",
        "resolution",
        "prepared_by",
        ("number", "date"),
        "attachments",
    ]
    inlines = [SubmissionSignatoryInline]

    def get_queryset(self, request):
        return super().get_queryset(request) & readable_submissions(request.user)

    def _owned(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._owned(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._owned(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._owned(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "municipality":
            kwargs["queryset"] = member_municipalities(request.user)
        elif db_field.name == "report":
            kwargs["queryset"] = readable_reports(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="PDF")
    def pdf(self, submission):
        return format_html(
            '<a href="{}">PDF</a>',
            reverse("reports:council-submission", args=[submission.pk]),
        )


class PlanChapterInline(admin.TabularInline):
    model = PlanChapter
    formfield_overrides = FIELDS_AS_TYPED
    extra = 0
    fields = ["position", "title"]


class PlanFundingInline(admin.TabularInline):
    model = PlanFunding
    extra = 0
    formfield_overrides = FIELDS_AS_TYPED
    autocomplete_fields = ["funder"]
    fields = ["position", "funder", "purpose", "amount"]


@admin.register(ActionPlan)
class ActionPlanAdmin(admin.ModelAdmin):
    """A plan with its chapters and funding; the funding total is computed, never typed."""

    formfield_overrides = FIELDS_AS_TYPED
    list_display = ["title", "period_label", "issuer", "funding_total_column", "stated_total"]
    search_fields = ["title", "slug", "issuer"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["funding_check"]
    fieldsets = [
        (None, {"fields": ["title", "slug", ("start_year", "end_year"), "issuer"]}),
        (_("Introduction"), {"fields": ["introduction"]}),
        (_("Funding"), {"fields": ["stated_total", "funding_check"]}),
    ]
    inlines = [PlanChapterInline, PlanFundingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("funding")

    @admin.display(description=_("period"), ordering="start_year")
    def period_label(self, plan):
        return plan.period_label

    @admin.display(description=_("funding total (EUR)"))
    def funding_total_column(self, plan):
        return money(plan.funding_total())

    @admin.display(description=_("computed total"))
    def funding_check(self, plan):
        if plan.pk is None:
            return "—"
        difference = plan.funding_difference()
        if difference is None:
            return _("%(total)s EUR; the plan states no total.") % {
                "total": money(plan.funding_total())
            }
        if difference == 0:
            return _("%(total)s EUR, as the plan states.") % {"total": money(plan.funding_total())}
        return _(
            "%(total)s EUR, but the plan states %(stated)s EUR (difference %(difference)s)."
        ) % {
            "total": money(plan.funding_total()),
            "stated": money(plan.stated_total),
            "difference": money(difference),
        }


@admin.register(PlanChapter)
class PlanChapterAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    formfield_overrides = FIELDS_AS_TYPED
    list_display = ["title", "plan", "position"]
    list_select_related = ["plan"]
    list_filter = ["plan"]
    search_fields = ["title", "plan__title"]


class ObjectiveInline(admin.StackedInline):
    model = Objective
    formfield_overrides = FIELDS_AS_TYPED
    extra = 0
    fields = [("position", "text")]


class ActivityInline(admin.StackedInline):
    """An objective's activities; new ones are added on the activity page, with their lead."""

    model = Activity
    formfield_overrides = FIELDS_AS_TYPED
    extra = 0
    show_change_link = True
    fields = [("position", "periods"), "text", "expected_results"]

    def has_add_permission(self, request, obj):
        return False


@admin.register(Objective)
class ObjectiveAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    formfield_overrides = FIELDS_AS_TYPED
    list_display = ["__str__", "chapter", "plan_column"]
    list_select_related = ["chapter__plan"]
    list_filter = ["chapter__plan", "chapter"]
    search_fields = ["text", "chapter__title"]
    inlines = [ActivityInline]

    @admin.display(description=_("action plan"), ordering="chapter__plan")
    def plan_column(self, objective):
        return objective.chapter.plan


class ResponsibleInstitutionInline(admin.TabularInline):
    model = ActivityInstitution
    formfield_overrides = FIELDS_AS_TYPED
    formset = ResponsibleInstitutionFormSet
    extra = 0
    autocomplete_fields = ["institution"]
    fields = ["position", "institution", "is_lead"]


class ActivityProgressInline(admin.TabularInline):
    model = ActivityProgress
    formfield_overrides = FIELDS_AS_TYPED
    extra = 0
    fields = ["period", "status", "note"]


@admin.register(Activity)
class ActivityAdmin(ScopedChoicesMixin, SpreadsheetAdmin, admin.ModelAdmin):
    """Activities with their responsible institutions (exactly one lead) and progress.

    *Uvozi* reads activities from CSV or XLSX (``programs.imports``), with a preview before
    anything is written; *Izvozi* writes them in the same columns.
    """

    formfield_overrides = FIELDS_AS_TYPED
    resource_classes = [ActivityResource]

    list_display = ["__str__", "objective", "periods", "lead_column"]
    list_filter = [
        "objective__chapter__plan",
        "objective__chapter",
        "responsible__institution",
        "progress__status",
    ]
    search_fields = [
        "text",
        "expected_results",
        "objective__text",
        "responsible__institution__short_name",
    ]
    autocomplete_fields = ["objective"]
    fields = ["objective", ("position", "periods"), "text", "expected_results"]
    inlines = [ResponsibleInstitutionInline, ActivityProgressInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("objective__chapter__plan")
            .prefetch_related("responsible__institution")
        )

    def has_import_permission(self, request):
        user = request.user
        return user.has_perm("programs.add_activity") and user.has_perm("programs.change_activity")

    def has_export_permission(self, request):
        return request.user.has_perm("programs.view_activity")

    @admin.display(description=_("lead"))
    def lead_column(self, activity):
        return activity.lead or "—"
