"""Admin for associations, their programmes and funding institutions."""

from django.contrib import admin

from programs.models import Association, Institution, Programme


class ProgrammeInline(admin.StackedInline):
    model = Programme
    extra = 0
    filter_horizontal = ["other_funders"]
    fields = [
        ("name", "kind"),
        "description",
        ("verified_until", "ministry_funding_period"),
        "target_groups",
        "locations",
        "other_funders",
        ("cofunded_by_strategy", "position"),
    ]


@admin.register(Association)
class AssociationAdmin(admin.ModelAdmin):
    list_display = ["short_name", "name", "legal_status", "address"]
    list_filter = ["legal_status"]
    search_fields = ["name", "short_name", "slug", "registration_number", "tax_number"]
    prepopulated_fields = {"slug": ["short_name"]}
    inlines = [ProgrammeInline]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "association", "kind", "verified_until", "cofunded_by_strategy"]
    list_filter = ["kind", "cofunded_by_strategy", "association"]
    search_fields = ["name", "description", "association__short_name"]
    autocomplete_fields = ["association"]
    filter_horizontal = ["other_funders"]


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["short_name", "name"]
    search_fields = ["short_name", "name"]
