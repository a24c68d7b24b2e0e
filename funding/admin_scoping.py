"""What the admin offers a user to choose, and which rows it shows read-only: one mechanism.

- Choice lists, filters and autocompletes. The rows of a related model a user may *read*
  are the rows its own admin lists (``get_queryset``, as Django's autocomplete already takes
  them); the rows a write may *point at* are its admin's ``choosable_queryset`` (the rows the
  user may edit, e.g. editable strategies, the user's municipalities' budget items), or the
  readable ones when the admin names none. Filters list readable rows; form fields and
  autocompletes of forms list choosable ones.
- Locked rows (``funding.locks``: e.g. a part of a published report) show read-only with the
  reason, and are refused for deletion, also when a deletion would reach them in a cascade.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects, get_fields_from_path
from django.core.exceptions import ValidationError
from django.db import router
from django.forms.models import BaseInlineFormSet

from funding.locks import lock_reason


def _rows(admin_site, request, model, *, for_writing: bool):
    """The model's rows the user may read (or choose for a write), or None when unscoped."""
    target = admin_site._registry.get(model)
    if target is None:
        return None
    if for_writing and hasattr(target, "choosable_queryset"):
        rows = target.choosable_queryset(request)
    else:
        rows = target.get_queryset(request)
    return model._default_manager.filter(pk__in=rows.order_by().values("pk"))


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A relation's filter that lists only the related rows the user may read."""

    def field_choices(self, field, request, model_admin):
        rows = _rows(model_admin.admin_site, request, field.related_model, for_writing=False)
        if rows is None:
            return super().field_choices(field, request, model_admin)
        return field.get_choices(
            include_blank=False,
            limit_choices_to={"pk__in": rows.values("pk")},
            ordering=self.field_admin_ordering(field, request, model_admin),
        )


class ScopedChoicesMixin:
    """For a ModelAdmin or an inline: every relation's choices, filter and autocomplete scoped."""

    def choosable_queryset(self, request):
        """The rows other forms may point at; by default those the user reads here."""
        return self.get_queryset(request)

    def _scoped(self, request, db_field, kwargs):
        if "queryset" not in kwargs:
            rows = _rows(self.admin_site, request, db_field.related_model, for_writing=True)
            if rows is not None:
                kwargs["queryset"] = rows
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self._scoped(request, db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self._scoped(request, db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        return [self._scoped_filter(entry) for entry in super().get_list_filter(request)]

    def _scoped_filter(self, entry):
        if not isinstance(entry, str):
            return entry
        if get_fields_from_path(self.model, entry)[-1].is_relation:
            return (entry, ScopedRelatedFieldListFilter)
        return entry

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Django's autocomplete serves form fields: it offers what a write may point at.
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete":
            queryset = queryset.filter(pk__in=self.choosable_queryset(request).values("pk"))
        return queryset, may_have_duplicates


class LockedRowsMixin:
    """For a ModelAdmin or an inline: locked rows are read-only, with the reason, and kept."""

    def _lock_of(self, obj) -> str | None:
        return lock_reason(obj) if obj is not None and obj.pk is not None else None

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._lock_of(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._lock_of(obj)


class LockedRowsAdmin(LockedRowsMixin):
    """For a ModelAdmin: also says why on the page, and refuses deletions reaching locked rows."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, object_id)
            reason = self._lock_of(obj)
            if reason:
                self.message_user(request, reason, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A cascade reaches rows without an admin of their own (a project's indicators), so
        # every row the deletion would remove is asked; each reason is listed as protected.
        collector = NestedObjects(using=router.db_for_write(self.model))
        collector.collect(objs)
        reasons = {
            reason: None
            for instances in collector.data.values()
            for instance in instances
            if (reason := lock_reason(instance))
        }
        if reasons:
            # Django's page names missing permissions before protected rows; the reason says
            # more than "you may not delete projects".
            return deleted, counts, set(), [*protected, *reasons]
        return deleted, counts, perms_needed, protected


class LockedRowsFormSet(BaseInlineFormSet):
    """An inline's rows: a row that is locked, or would become locked, is neither changed nor
    deleted (for rows locked by something other than the page's own object)."""

    def clean(self):
        super().clean()
        for form in self.forms:
            deleting = self.can_delete and self._should_delete_form(form)
            if not (deleting or form.has_changed()):
                continue
            instance = form.instance
            stored = type(instance)._default_manager.filter(pk=instance.pk).first()
            reason = (stored is not None and lock_reason(stored)) or (
                not deleting and lock_reason(instance)
            )
            if reason:
                raise ValidationError(reason, code="row_locked")
