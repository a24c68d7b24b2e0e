"""Admin for municipalities, strategies, their key, budget lines and items, and allocations."""

import os

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import router, transaction
from django.db.models import OuterRef, Subquery
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from funding.admin_scoping import (
    LockedRowsAdmin,
    LockedRowsFormSet,
    LockedRowsMixin,
    ScopedChoicesMixin,
)
from funding.adoption import (
    adoption_record,
    next_revision_number,
    revision_propose,
    revision_status_label,
    revision_withdraw,
)
from funding.forms import (
    FIELDS_AS_TYPED,
    IndexationForm,
    OptimisticLockForm,
    SpreadsheetImportForm,
)
from funding.imports import ImportFileError, SpreadsheetCSV, SpreadsheetXLSX, UploadStorage
from funding.models import (
    Allocation,
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    IndexationRate,
    InKindSupport,
    Membership,
    MunicipalBudgetItem,
    Municipality,
    Reallocation,
    StatedRealisation,
    StrategyAdoption,
    StrategyAssociation,
    StrategyRevision,
    StrategyShare,
    category_order,
    key_error,
    money,
)
from funding.permissions import (
    editable_municipalities,
    editable_strategies,
    member_municipalities,
    readable_strategies,
)
from funding.projection import projection_derive
from funding.realisation import item_realisation
from funding.resources import AllocationResource, BudgetItemResource, BudgetLineResource
from funding.services import budget_lines_copy_to_next_year
from programs.permissions import can_change_register_record

# Django's own Slovenian catalogue lacks these admin strings; naming them keeps them in ours.
DJANGO_ADMIN_STRINGS = [gettext_noop("Show counts"), gettext_noop("Hide counts")]


class SetFormSet(BaseInlineFormSet):
    """An inline form set that holds a whole set of rows under one rule (funding.models.SetMember).

    Its rows are marked as checked as a set, and ``clean`` asks the rule once for the rows
    about to be written — so that changing two rows together is judged as a whole.
    """

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.checked_as_a_set = True
        return form

    def kept_values(self, name: str) -> list | None:
        """The field's values of the rows that stay, or None while a row has errors."""
        values = []
        for form in self.forms:
            if not form.is_valid():
                return None
            data = form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            values.append(data.get(name))
        return values


class KeyFormSet(SetFormSet):
    """The strategy page's key: its shares checked together (funding.models.key_error)."""

    def clean(self):
        super().clean()
        shares = self.kept_values("share_percent")
        if shares is not None and (error := key_error(shares)) is not None:
            raise error


class ItemsFormSet(SetFormSet):
    """The line page's items: checked together with the amount typed beside them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin builds the form sets before it validates the line's own form: the line's
        # clean() then leaves the items to this form set (BudgetLine.items_error).
        self.instance.checked_as_a_set = True

    def clean(self):
        super().clean()
        amounts = self.kept_values("amount")
        if amounts is not None:
            error = BudgetLine.items_error(self.instance.amount, amounts)
            if error is not None:
                raise error


class ItemMoneyFormSet(SetFormSet):
    """The allocations or the reallocations out on a budget item's page.

    Both form sets register with the item; the last one checks the item's money rule
    (MunicipalBudgetItem.money_error) for the rows of both, so two new allocations, or an
    allocation raised while a reallocation out grows, are judged together.
    """

    money_field = ""
    role = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.__dict__.setdefault("money_formsets", []).append(self)

    def clean(self):
        super().clean()
        formsets = self.instance.__dict__.get("money_formsets", [self])
        if self is not formsets[-1]:
            return
        given = {}
        for formset in formsets:
            values = formset.kept_values(formset.money_field)
            if values is None:
                return
            given[formset.role] = values
        error = self.instance.money_error(**given)
        if error is not None:
            raise error


class AllocationFormSet(ItemMoneyFormSet):
    money_field, role = "realised_amount", "spent"


class ReallocationFormSet(ItemMoneyFormSet):
    money_field, role = "amount", "moved_out"


def _year_of(obj) -> int | None:
    """The budget year an object belongs to (a line's or an item's), None for the others."""
    if isinstance(obj, BudgetItem):
        return obj.line.year
    return getattr(obj, "year", None)


def follow(obj, path: str):
    """The object reached from ``obj`` by a lookup path such as "line__strategy"."""
    for name in filter(None, path.split("__")):
        obj = getattr(obj, name)
    return obj


class StrategyScopedAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """Shows only the strategies the user may read; changes only those the user may edit.

    ``strategy_field`` is the lookup from the model to its strategy ("" for the strategy
    itself). The group permissions still apply first; this narrows them to the user's
    municipalities (funding.permissions), also for objects reached by guessing a URL.
    """

    strategy_field = "strategy"
    formfield_overrides = FIELDS_AS_TYPED

    def _scope(self, queryset, strategies):
        lookup = f"{self.strategy_field}__in" if self.strategy_field else "pk__in"
        return queryset.filter(**{lookup: strategies})

    def _strategy_of(self, obj) -> FundingStrategy | None:
        """The object's strategy; None when it is gone (a deleted row's history)."""
        try:
            return follow(obj, self.strategy_field)
        except ObjectDoesNotExist:
            return None

    def get_queryset(self, request):
        return self._scope(super().get_queryset(request), readable_strategies(request.user))

    def choosable_queryset(self, request):
        return self._scope(self.model._default_manager.all(), editable_strategies(request.user))

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        strategy = self._strategy_of(obj)
        return (
            strategy is not None
            and readable_strategies(request.user).filter(pk=strategy.pk).exists()
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)

    def _may_edit(self, request, obj) -> bool:
        if obj is None:
            return True
        strategy = self._strategy_of(obj)
        # A proposed or adopted strategy shows read-only: it changes through an amendment.
        if strategy is None or strategy.lock_reason(year=_year_of(obj)):
            return False
        return editable_strategies(request.user).filter(pk=strategy.pk).exists()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # New and changed rows may point only at strategies (and their lines) the user edits.
        if db_field.name == "strategy":
            kwargs["queryset"] = editable_strategies(request.user)
        elif db_field.name == "line":
            kwargs["queryset"] = BudgetLine.objects.filter(
                strategy__in=editable_strategies(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OptimisticLockAdmin(admin.ModelAdmin):
    """Renders the form's version on every page that saves the model (funding.forms).

    Admins that list their ``fields`` or ``fieldsets`` would otherwise leave the hidden
    version out of the page, and the lock would never see a second session's save.
    """

    form = OptimisticLockForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or any("expected_version" in opts["fields"] for _name, opts in fieldsets):
            return fieldsets
        (name, first), *rest = fieldsets
        return [(name, {**first, "fields": [*first["fields"], "expected_version"]}), *rest]


class SetMemberAdmin(admin.ModelAdmin):
    """The own page of a row that belongs to a set under one rule (funding.models.SetMember).

    Saving asks the rule through the model's clean(); deleting asks ``deletion_error`` first and
    says why it cannot, instead of leaving the set broken. The bulk delete is not offered: the
    set's page (the strategy's key, the line's items) removes rows with the rest in view.
    """

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if (
            request.method == "POST"
            and obj is not None
            and self.has_delete_permission(request, obj)
        ):
            error = obj.deletion_error()
            if error is not None:
                for message in error.messages:
                    self.message_user(request, message, messages.ERROR)
                opts = self.model._meta
                return redirect(
                    reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
                )
        return super().delete_view(request, object_id, extra_context)


class LockedHistoryAdmin(SimpleHistoryAdmin):
    """simple-history's admin: history read as the object is, reverting as it is changed.

    django-simple-history 3.13's history form saves a POST after checking only that the user
    may *view* the history, so a read-only clerk could revert a budget line. Its history pages
    also answered 403 for a record the user may not read but 404 for one that does not exist,
    telling outsiders which ids exist; and for a deleted record they asked the permission
    check about a strategy deleted with it (a 500). Here a record the user may not read — its
    strategy deleted or never the user's — is not found, exactly as a missing one.
    """

    def history_view(self, request, object_id, extra_context=None):
        self._readable_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._readable_or_404(request, object_id, version_id)
        if request.method == "POST":
            current = self.get_object(request, object_id)
            if current is None or not self.has_change_permission(request, current):
                raise PermissionDenied
        # A revert is a save like the change page's: one transaction, in which the version
        # check may lock the row (simple-history itself opens none).
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)

    def _readable_or_404(self, request, object_id: str, version_id: str | None = None) -> None:
        """Refuse a record the user may not read with the 404 of one that does not exist."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied  # the role reads no such records: says nothing of this one
        not_found = Http404(
            _("There is no record “%(id)s” in the history.")
            % {"id": unquote(version_id or object_id)[:60]}
        )
        try:
            pk = self.model._meta.pk.to_python(unquote(object_id))
            records = self.model.history.filter(**{self.model._meta.pk.attname: pk})
            if version_id is not None:
                version = self.model.history.model._meta.pk.to_python(version_id)
                records = records.filter(history_id=version)
            # simple-history queries ids as typed: one beyond the column is a database error.
            record = records.order_by("-history_date", "-history_id").first()
        except (ValidationError, OverflowError):
            raise not_found from None
        if record is None:
            raise not_found
        if self.get_queryset(request).filter(pk=pk).exists():
            return
        # Deleted, or not the user's: readable only through a strategy the user reads.
        if not self.has_view_permission(request, record.instance):
            raise not_found


class SpreadsheetAdmin(ImportExportMixin):
    """Import and export of CSV (as Slovenian spreadsheets write it) and XLSX.

    Importing takes the right to change the model (and, row by row, to edit the row's
    strategy or municipality: funding.imports); exporting takes the right to view it and
    writes only the strategies or municipalities the user may read (funding.resources).
    """

    formats = [SpreadsheetCSV, SpreadsheetXLSX]
    import_form_class = SpreadsheetImportForm
    tmp_storage_class = UploadStorage

    def has_import_permission(self, request):
        return request.user.has_perm(f"funding.change_{self.model._meta.model_name}")

    def has_export_permission(self, request):
        return request.user.has_perm(f"funding.view_{self.model._meta.model_name}")

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def process_import(self, request, **kwargs):
        # Confirmed twice, or a changed form: the file is gone or was never the preview's.
        name = os.path.basename(request.POST.get("import_file_name", ""))
        if (
            request.method == "POST"
            and self.has_import_permission(request)
            and not UploadStorage.waiting(name)
        ):
            self.message_user(
                request,
                _(
                    "The uploaded file is no longer waiting for confirmation (it was imported "
                    "already, or the form was changed); nothing was imported. Upload it again."
                ),
                messages.ERROR,
            )
            opts = self.model._meta
            return redirect(f"admin:{opts.app_label}_{opts.model_name}_import")
        return super().process_import(request, **kwargs)

    def add_data_read_fail_error_to_form(self, form, error):
        # The library shows only the exception's class name; officers need the reason.
        if isinstance(error, ImportFileError):
            for message in error.problems:
                form.add_error("import_file", message)
        else:
            super().add_data_read_fail_error_to_form(form, error)


class StrategyInlinePermissions:
    """Inlines of a strategy page: editable only by those who may edit the strategy."""

    formfield_overrides = FIELDS_AS_TYPED

    def _may_edit(self, request, obj) -> bool:
        strategy = getattr(obj, "strategy", obj)
        return obj is None or editable_strategies(request.user).filter(pk=strategy.pk).exists()

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)


class StrategyShareInline(StrategyInlinePermissions, admin.TabularInline):
    model = StrategyShare
    formset = KeyFormSet
    extra = 0

    class Media:
        js = ["js/key-total.js"]

    autocomplete_fields = ["municipality"]


class StrategyAssociationInline(StrategyInlinePermissions, admin.StackedInline):
    model = StrategyAssociation
    extra = 0
    autocomplete_fields = ["association"]


class InKindSupportInline(StrategyInlinePermissions, admin.StackedInline):
    model = InKindSupport
    extra = 0
    autocomplete_fields = ["municipality", "association"]


class BudgetItemInline(StrategyInlinePermissions, admin.TabularInline):
    model = BudgetItem
    form = OptimisticLockForm
    formset = ItemsFormSet
    extra = 0


class RegisterRecordAdmin(LockedHistoryAdmin):
    """A shared register record (municipality, association, programme, institution).

    Every role with the view permission reads the list and each record; changing or deleting
    one — on its page, by a history revert or by the bulk delete, which asks per record —
    takes ``can_change_register_record`` (programs.permissions).
    """

    formfield_overrides = FIELDS_AS_TYPED

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may(request, obj, "change")

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may(request, obj, "delete")

    def _may(self, request, obj, action: str) -> bool:
        return obj is None or can_change_register_record(request.user, obj, action)


@admin.register(Municipality)
class MunicipalityAdmin(RegisterRecordAdmin):
    list_display = ["name", "slug", "mayor_name", "mayor_title"]
    search_fields = ["name", "short_name", "slug", "mayor_name"]
    prepopulated_fields = {"slug": ["short_name"]}


@admin.register(FundingStrategy)
class FundingStrategyAdmin(StrategyScopedAdmin, OptimisticLockAdmin):
    strategy_field = ""
    list_display = ["title", "period", "adoption", "lead_municipality", "key_total", "tables"]
    readonly_fields = ["adoption", "tables", "documents"]
    list_filter = ["start_year", "lead_municipality"]
    search_fields = ["title", "slug"]
    autocomplete_fields = ["lead_municipality"]
    inlines = [StrategyShareInline, StrategyAssociationInline, InKindSupportInline]
    actions = ["derive_later_years"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "start_year", "end_year", "document_date"]}),
        (_("Adoption and documents"), {"fields": ["adoption", "documents"]}),
        (_("Cost sharing"), {"fields": ["lead_municipality", "rounding_unit", "key_source"]}),
        (_("Annex texts"), {"fields": ["introduction", "assessment", "resolution_basis"]}),
        (_("Funding rules"), {"fields": ["funding_rules"]}),
        (_("Cost-sharing tables"), {"fields": ["tables"]}),
    ]

    @admin.display(description=_("adoption"))
    def adoption(self, strategy):
        if not strategy.pk:
            return "—"
        revision = strategy.latest_revision()
        status = revision_status_label(revision)
        if revision is None:
            return status
        url = reverse("admin:funding_strategyrevision_change", args=[revision.pk])
        return format_html('<a href="{}">{}</a>: {}', url, revision.label, status)

    @admin.display(description=_("documents"))
    def documents(self, strategy):
        if not strategy.pk:
            return "—"
        links = [
            (reverse("reports:strategy-annex", args=[strategy.slug]), _("Strategy annex (PDF)")),
            (reverse("reports:projection", args=[strategy.slug]), _("All years (projection)")),
            (
                reverse("reports:strategy-changes", args=[strategy.slug]),
                _("Changes since adoption"),
            ),
        ]
        links += [
            (
                reverse(
                    "reports:strategy-resolution", args=[strategy.slug, share.municipality.slug]
                ),
                _("Council resolution – %(name)s (PDF)") % {"name": share.municipality.short_name},
            )
            for share in strategy.shares.select_related("municipality")
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description=_("period"), ordering="start_year")
    def period(self, strategy):
        # Years are not amounts: no thousands separator.
        return f"{strategy.start_year}–{strategy.end_year}"

    @admin.display(description=_("cost-sharing tables"))
    def tables(self, strategy):
        if not strategy.pk:
            return "—"
        return format_html_join(
            " ",
            '<a href="{}">{}</a>&nbsp;(<a href="{}">PDF</a>)',
            (
                (
                    reverse("reports:cost-sharing", args=[strategy.slug, year]),
                    str(year),
                    reverse("reports:cost-sharing-file", args=[strategy.slug, year, "pdf"]),
                )
                for year in strategy.years
            ),
        )

    @admin.display(description=_("key total (%)"))
    def key_total(self, strategy):
        total = money(strategy.key_total())
        if strategy.key_problem() is None:
            return total
        # A key that cannot split a table (none yet, or stored off 100,00 % before the rule
        # held on every path) is flagged where the coordinator looks first.
        return format_html(
            '{} <strong class="key-incomplete">⚠ {}</strong>', total, _("key incomplete")
        )

    @admin.action(
        description=_("Derive the later years from indexation rates"), permissions=["change"]
    )
    def derive_later_years(self, request, queryset):
        """Derive each selected strategy's later years without lines (funding.projection)."""
        if queryset.exclude(pk__in=editable_strategies(request.user)).exists():
            self.message_user(
                request,
                _("Only strategies you coordinate can be derived; nothing was derived."),
                messages.ERROR,
            )
            return
        for strategy in queryset:
            try:
                derived = projection_derive(strategy=strategy)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, message, messages.ERROR)
                self.message_user(
                    request,
                    _("%(strategy)s: nothing was derived.") % {"strategy": strategy.slug},
                    messages.ERROR,
                )
                continue
            if not derived:
                self.message_user(
                    request,
                    _("%(strategy)s: every later year has lines already; nothing to derive.")
                    % {"strategy": strategy.slug},
                    messages.WARNING,
                )
                continue
            count = sum(len(lines) for lines in derived.values())
            self.message_user(
                request,
                ngettext(
                    "%(strategy)s: derived %(count)d line for %(years)s.",
                    "%(strategy)s: derived %(count)d lines for %(years)s.",
                    count,
                )
                % {
                    "strategy": strategy.slug,
                    "count": count,
                    "years": ", ".join(str(year) for year in derived),
                },
                messages.SUCCESS,
            )


@admin.register(BudgetLine)
class BudgetLineAdmin(
    StrategyScopedAdmin, SpreadsheetAdmin, OptimisticLockAdmin, LockedHistoryAdmin
):
    resource_classes = [BudgetLineResource]
    list_display = ["association", "year_column", "category", "amount"]
    # Real fields only: Django also orders foreign-key choices elsewhere by this.
    ordering = ["strategy__slug", "year"]
    list_filter = ["strategy", "year", "category", "association"]
    search_fields = ["association__name", "association__short_name", "note"]
    autocomplete_fields = ["strategy", "association"]
    list_select_related = ["association", "strategy"]
    inlines = [BudgetItemInline]
    actions = ["copy_to_next_year", "open_table", "open_table_pdf"]
    readonly_fields = ["items_sum"]
    fields = ["strategy", "association", "year", "category", "amount", "items_sum", "note"]

    @admin.display(description=_("sum of the items"))
    def items_sum(self, line):
        total = line.items_total() if line.pk else None
        if total is None:
            return _("The line has no items; its amount stands on its own.")
        if total == line.amount:
            return _("%(total)s EUR, equal to the amount.") % {"total": money(total)}
        return _("%(total)s EUR: differs from the amount %(amount)s EUR.") % {
            "total": money(total),
            "amount": money(line.amount),
        }

    @admin.action(description=_("Copy to the next year with indexation"), permissions=["add"])
    def copy_to_next_year(self, request, queryset):
        lines = queryset.filter(strategy__in=editable_strategies(request.user))
        if lines.count() != queryset.count():
            self.message_user(
                request,
                _("Only lines of strategies you coordinate can be copied; nothing was copied."),
                messages.ERROR,
            )
            return None
        form = IndexationForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/funding/budgetline/copy_to_next_year.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Copy to the next year with indexation"),
                    "opts": self.model._meta,
                    "form": form,
                    "lines": lines.select_related("association"),
                },
            )
        try:
            copies = budget_lines_copy_to_next_year(
                lines=lines.select_related("strategy", "association").prefetch_related("items"),
                percent=form.cleaned_data["percent"],
            )
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            self.message_user(request, _("Nothing was copied."), messages.ERROR)
            return None
        self.message_user(
            request,
            ngettext(
                "Copied %(count)d line to the next year.",
                "Copied %(count)d lines to the next year.",
                len(copies),
            )
            % {"count": len(copies)},
            messages.SUCCESS,
        )
        return None

    @admin.action(description=_("Open the cost-sharing table of the selection"))
    def open_table(self, request, queryset):
        return self._table_redirect(request, queryset, "reports:cost-sharing", [])

    @admin.action(description=_("Open the cost-sharing table of the selection as PDF"))
    def open_table_pdf(self, request, queryset):
        return self._table_redirect(request, queryset, "reports:cost-sharing-file", ["pdf"])

    def _table_redirect(self, request, queryset, name, extra_args):
        pairs = set(queryset.values_list("strategy__slug", "year"))
        if len(pairs) != 1:
            self.message_user(
                request,
                _("Select lines of one strategy and one year to open their table."),
                messages.WARNING,
            )
            return None
        slug, year = pairs.pop()
        return redirect(reverse(name, args=[slug, year, *extra_args]))

    def get_queryset(self, request):
        # The order of the published table: year, the strategy's association order, category.
        # Annotated here because ModelAdmin.get_queryset orders before subclasses annotate.
        return (
            self._scope(BudgetLine.objects.all(), readable_strategies(request.user))
            .select_related(*self.list_select_related)
            .annotate(
                association_position=Subquery(
                    StrategyAssociation.objects.filter(
                        strategy=OuterRef("strategy"), association=OuterRef("association")
                    ).values("position")[:1]
                ),
                category_position=category_order(),
            )
            # The changelist puts ``ordering`` first and appends this queryset's order.
            .order_by("strategy__slug", "year", "association_position", "category_position")
        )

    @admin.display(description=_("year"), ordering="year")
    def year_column(self, line):
        return str(line.year)


@admin.register(BudgetItem)
class BudgetItemAdmin(
    StrategyScopedAdmin, SetMemberAdmin, SpreadsheetAdmin, OptimisticLockAdmin, LockedHistoryAdmin
):
    """Items one by one; a change must keep its line adding up (BudgetItem.clean)."""

    strategy_field = "line__strategy"
    resource_classes = [BudgetItemResource]
    list_display = ["description", "pay_grade", "share_percent", "amount", "line"]
    list_filter = ["line__strategy", "line__year", "line__association"]
    search_fields = ["description", "line__association__short_name"]
    list_select_related = ["line__association"]
    autocomplete_fields = ["line"]


@admin.register(InKindSupport)
class InKindSupportAdmin(StrategyScopedAdmin):
    list_display = ["association", "municipality", "address", "strategy"]
    list_filter = ["strategy", "municipality"]
    search_fields = ["description", "address", "association__short_name"]
    autocomplete_fields = ["strategy", "municipality", "association"]


@admin.register(StrategyShare)
class StrategyShareAdmin(StrategyScopedAdmin, SetMemberAdmin, LockedHistoryAdmin):
    """Shares one by one; a change must keep the key at 100,00 % (StrategyShare.clean)."""

    list_display = ["municipality", "share_percent", "strategy", "position"]
    list_filter = ["strategy"]
    search_fields = ["municipality__name"]
    autocomplete_fields = ["strategy", "municipality"]


@admin.register(IndexationRate)
class IndexationRateAdmin(StrategyScopedAdmin):
    list_display = ["year_column", "category", "percent", "basis", "strategy_slug"]
    # The changelist appends the queryset's order (categories in the table's order) to this.
    ordering = ["strategy__slug", "year"]
    list_filter = ["strategy", "year", "category"]
    search_fields = ["strategy__title", "strategy__slug", "basis"]
    autocomplete_fields = ["strategy"]
    list_select_related = ["strategy"]
    fields = ["strategy", "year", "category", "percent", "basis"]

    def get_queryset(self, request):
        # Categories in the table's order, not alphabetically.
        return (
            super()
            .get_queryset(request)
            .annotate(category_position=category_order())
            .order_by("strategy__slug", "year", "category_position")
        )

    @admin.display(description=_("year"), ordering="year")
    def year_column(self, rate):
        return str(rate.year)

    @admin.display(description=_("strategy"), ordering="strategy__slug")
    def strategy_slug(self, rate):
        # The slug: a strategy's title is a paragraph long and would push the rates away.
        return rate.strategy.slug


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    formfield_overrides = FIELDS_AS_TYPED
    list_display = ["user", "municipality"]
    list_filter = ["municipality"]
    search_fields = ["user__username", "municipality__name"]
    autocomplete_fields = ["municipality"]


class MunicipalityScopedAdmin(ScopedChoicesMixin, LockedRowsAdmin, admin.ModelAdmin):
    """A municipality's own data: only members of that municipality see and change it.

    Rows a published report shows are read-only (funding.locks).
    """

    municipality_field = "municipality"
    formfield_overrides = FIELDS_AS_TYPED

    def _mine(self, request):
        return member_municipalities(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.municipality_field}__in": self._mine(request)})

    def choosable_queryset(self, request):
        mine = editable_municipalities(request.user)
        return self.model._default_manager.filter(**{f"{self.municipality_field}__in": mine})

    def _owned(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        municipality = follow(obj, self.municipality_field)
        return self._mine(request).filter(pk=municipality.pk).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._owned(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._owned(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._owned(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # New rows may belong only to the user's own municipalities and their items.
        if not request.user.is_superuser:
            if db_field.name == "municipality":
                kwargs["queryset"] = self._mine(request)
            elif db_field.related_model is MunicipalBudgetItem:
                kwargs["queryset"] = MunicipalBudgetItem.objects.filter(
                    municipality__in=self._mine(request)
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AllocationInline(ScopedChoicesMixin, LockedRowsMixin, admin.TabularInline):
    model = Allocation
    formset = AllocationFormSet
    extra = 0
    fields = ["position", "recipient", "programme", "planned_amount", "realised_amount"]
    formfield_overrides = FIELDS_AS_TYPED


class ReallocationInline(ScopedChoicesMixin, LockedRowsMixin, admin.TabularInline):
    """Money moved out of the item: to another item of its own budget (Reallocation.clean)."""

    model = Reallocation
    formset = ReallocationFormSet
    fk_name = "source"
    formset = LockedRowsFormSet
    extra = 0
    formfield_overrides = FIELDS_AS_TYPED

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        source = self._source(request)
        if db_field.name == "target" and source is not None:
            kwargs["queryset"] = (
                MunicipalBudgetItem.objects.filter(
                    municipality=source.municipality_id,
                    year=source.year,
                    municipality__in=editable_municipalities(request.user),
                )
                .exclude(pk=source.pk)
                .select_related("municipality")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _source(self, request) -> MunicipalBudgetItem | None:
        """The item whose page this is (None on the page that adds one)."""
        object_id = (
            request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        )
        if object_id is None:
            return None
        try:
            pk = MunicipalBudgetItem._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            return None
        return MunicipalBudgetItem.objects.filter(pk=pk).first()


@admin.register(MunicipalBudgetItem)
class MunicipalBudgetItemAdmin(MunicipalityScopedAdmin):
    list_display = ["name", "municipality", "year_column", "adopted_amount", "realisation"]
    list_filter = ["municipality", "year"]
    search_fields = ["name", "code", "allocations__recipient"]
    readonly_fields = ["realisation_check"]
    inlines = [AllocationInline, ReallocationInline]

    def get_queryset(self, request):
        # The realisation column needs each item's allocations and reallocations.
        return (
            super()
            .get_queryset(request)
            .select_related("municipality", "stated_realisation")
            .prefetch_related("allocations", "reallocations_out__target", "reallocations_in")
        )

    @admin.display(description=_("year"), ordering="year")
    def year_column(self, item):
        return str(item.year)

    @admin.display(description=_("realisation (EUR)"))
    def realisation(self, item):
        return money(item_realisation(item).total)

    @admin.display(description=_("realisation, computed"))
    def realisation_check(self, item):
        if not item.pk:
            return "—"
        result = item_realisation(item)
        lines = [
            _("Spent %(spent)s EUR + reallocated %(moved)s EUR = %(total)s EUR.")
            % {
                "spent": money(result.spent),
                "moved": money(result.reallocated_out),
                "total": money(result.total),
            },
            *[f"⚠ {warning}" for warning in result.warnings],
        ]
        return format_html_join("", "<p>{}</p>", ((line,) for line in lines))


@admin.register(Allocation)
class AllocationAdmin(SpreadsheetAdmin, MunicipalityScopedAdmin):
    municipality_field = "item__municipality"
    resource_classes = [AllocationResource]
    list_display = ["recipient", "item", "planned_amount", "realised_amount", "programme"]
    list_filter = ["item__year", "item__municipality"]
    search_fields = ["recipient", "item__name", "item__code"]
    list_select_related = ["item__municipality", "programme"]
    autocomplete_fields = ["item", "programme"]
    ordering = ["item__municipality__slug", "item__year", "item__name", "position", "id"]


@admin.register(StatedRealisation)
class StatedRealisationAdmin(MunicipalityScopedAdmin):
    municipality_field = "item__municipality"
    list_display = ["item", "spent", "reallocated", "total"]


class AdoptionScopedAdmin(StrategyScopedAdmin):
    """Revisions and adoptions are recorded while the strategy itself is locked (proposed)."""

    def _may_edit(self, request, obj) -> bool:
        if obj is None:
            return True
        revision = obj if isinstance(obj, StrategyRevision) else obj.revision
        if revision.is_frozen:
            return False
        return editable_strategies(request.user).filter(pk=revision.strategy_id).exists()


class StrategyAdoptionInline(admin.TabularInline):
    model = StrategyAdoption
    formfield_overrides = FIELDS_AS_TYPED
    extra = 0
    fields = ["municipality", "date", "session", "resolution_number"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # Adoptions are recorded one by one (Council adoptions → Add), where the last one
        # brings the strategy into force.
        return False


class StrategyRevisionForm(forms.ModelForm):
    class Meta:
        model = StrategyRevision
        fields = ["strategy", "reason", "proposed_on"]

    def clean(self):
        cleaned = super().clean()
        strategy = cleaned.get("strategy")
        if self.instance.pk is None and strategy is not None:
            # Numbered before validation so that the unique (strategy, number) rule holds.
            self.instance.number = next_revision_number(strategy)
        return cleaned


@admin.register(StrategyRevision)
class StrategyRevisionAdmin(AdoptionScopedAdmin):
    form = StrategyRevisionForm
    list_display = ["strategy", "label", "status_label", "proposed_on", "in_force_on"]
    list_filter = ["status"]
    search_fields = ["strategy__title", "strategy__slug"]
    inlines = [StrategyAdoptionInline]
    actions = ["propose", "withdraw"]
    frozen_fields = ["document_sha256", "annex_sha256", "frozen_at"]

    def get_readonly_fields(self, request, obj=None):
        fields = ["label", "status_label", "in_force_on", *self.frozen_fields, "documents"]
        if obj is not None:
            fields.insert(0, "strategy")
            if obj.status != StrategyRevision.Status.DRAFT:
                fields += ["reason", "proposed_on"]
        return fields

    @admin.display(description=_("revision"))
    def label(self, revision):
        return revision.label

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, revision):
        return revision_status_label(revision)

    @admin.display(description=_("documents"))
    def documents(self, revision):
        if not revision.pk:
            return "—"
        links = [(reverse("reports:revision-annex", args=[revision.pk]), _("annex (PDF)"))]
        if revision.is_frozen:
            links.append(
                (
                    reverse("reports:strategy-changes", args=[revision.strategy.slug]),
                    _("changes since adoption"),
                )
            )
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def save_model(self, request, obj, form, change):
        obj.full_clean()
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Propose the selected revisions to the councils"))
    def propose(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda revision: revision_propose(
                revision=revision, proposed_on=revision.proposed_on or timezone.localdate()
            ),
            _("%(revision)s proposed to the councils."),
        )

    @admin.action(description=_("Withdraw the selected proposals"))
    def withdraw(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda revision: revision_withdraw(revision=revision),
            _("%(revision)s withdrawn to draft."),
        )

    def _each(self, request, queryset, service, success):
        for revision in queryset.select_related("strategy"):
            if not self._may_edit(request, revision):
                self.message_user(
                    request,
                    _("You may not change %(revision)s.") % {"revision": revision},
                    messages.ERROR,
                )
                continue
            try:
                service(revision)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, f"{revision}: {message}", messages.ERROR)
            else:
                self.message_user(request, success % {"revision": revision}, messages.SUCCESS)


@admin.register(StrategyAdoption)
class StrategyAdoptionAdmin(AdoptionScopedAdmin):
    strategy_field = "revision__strategy"
    list_display = ["revision", "municipality", "date", "session", "resolution_number"]
    list_filter = ["municipality"]
    search_fields = ["resolution_number", "revision__strategy__title"]
    fields = ["revision", "municipality", "date", "session", "resolution_number"]

    def get_readonly_fields(self, request, obj=None):
        return ["revision", "municipality"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        editable = editable_strategies(request.user)
        if db_field.name == "revision":
            kwargs["queryset"] = StrategyRevision.objects.filter(
                strategy__in=editable, status=StrategyRevision.Status.PROPOSED
            ).select_related("strategy")
        elif db_field.name == "municipality":
            kwargs["queryset"] = Municipality.objects.filter(
                strategy_shares__strategy__in=editable
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        recorded = adoption_record(
            revision=obj.revision,
            municipality=obj.municipality,
            date=obj.date,
            session=obj.session,
            resolution_number=obj.resolution_number,
        )
        obj.pk = recorded.pk
        revision = StrategyRevision.objects.get(pk=recorded.revision_id)
        if revision.is_frozen:
            self.message_user(
                request,
                _(
                    "The last council has adopted it: %(revision)s is in force since %(date)s "
                    "and frozen (annex SHA-256 %(hash)s)."
                )
                % {
                    "revision": revision,
                    "date": date_format(revision.in_force_on, "SHORT_DATE_FORMAT"),
                    "hash": revision.annex_sha256,
                },
                messages.SUCCESS,
            )
