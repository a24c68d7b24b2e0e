"""django-import-export resource for action-plan activities, for the admin and the command.

The rules are those of ``programs.imports``; the all-or-nothing transaction, the plan made
from the whole file and the row results are ``funding.resources.PlannedImportResource``'s. A
row writes across models (chapter, objective, activity, institutions), so rows are saved one
by one through ``programs.services.activity_save`` rather than in bulk.
"""

from import_export import fields

from funding.resources import PlannedImportResource
from programs.imports import ACTIVITY_COLUMNS, plan_activity_import
from programs.models import Activity
from programs.services import activity_save

_HEADERS = {column.name: column.header for column in ACTIVITY_COLUMNS}


class ActivityResource(PlannedImportResource):
    """Activities: načrt, poglavje, cilj, aktivnost, obdobja, pričakovani rezultati, nosilec,
    partnerji (partners separated by "; ")."""

    plan = fields.Field(attribute="objective__chapter__plan__slug", column_name=_HEADERS["plan"])
    chapter = fields.Field(attribute="objective__chapter__title", column_name=_HEADERS["chapter"])
    objective = fields.Field(attribute="objective__text", column_name=_HEADERS["objective"])
    text = fields.Field(attribute="text", column_name=_HEADERS["text"])
    periods = fields.Field(attribute="periods", column_name=_HEADERS["periods"])
    expected_results = fields.Field(
        attribute="expected_results", column_name=_HEADERS["expected_results"]
    )
    lead = fields.Field(column_name=_HEADERS["lead"])
    partners = fields.Field(column_name=_HEADERS["partners"])

    class Meta:
        model = Activity
        fields = (
            "plan",
            "chapter",
            "objective",
            "text",
            "periods",
            "expected_results",
            "lead",
            "partners",
        )
        import_id_fields = ("plan", "chapter", "objective", "text")
        use_bulk = False

    planner = plan_activity_import

    def import_instance(self, instance, row, **kwargs):
        planned = self._row.values["row"]
        instance.text = instance.text or planned.text
        instance.periods = planned.periods
        if planned.expected_results is not None:
            instance.expected_results = planned.expected_results

    def do_instance_save(self, instance, is_create):
        if not self.may_write():
            return
        planned = self._row.values["row"]
        activity_save(
            activity=instance,
            plan=planned.plan,
            chapter=planned.chapter,
            objective=planned.objective,
            lead=planned.lead,
            partners=None if planned.partners is None else list(planned.partners),
        )

    def dehydrate_lead(self, activity):
        lead = activity.lead if activity.pk else None
        return lead.short_name if lead else ""

    def dehydrate_partners(self, activity):
        partners = activity.partners if activity.pk else []
        return "; ".join(institution.short_name for institution in partners)

    def readable(self, queryset, user):
        """Action plans are national or shared documents: whoever may view activities reads all."""
        return queryset if user.has_perm("programs.view_activity") else queryset.none()

    def get_queryset(self):
        return (
            Activity.objects.select_related("objective__chapter__plan")
            .prefetch_related("responsible__institution")
            .order_by(
                "objective__chapter__plan__slug",
                "objective__chapter__position",
                "objective__position",
                "position",
                "id",
            )
        )
