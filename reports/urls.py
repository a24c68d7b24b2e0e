from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path(
        "strategies/<slug:slug>/<int:year>/cost-sharing/",
        views.cost_sharing_page,
        name="cost-sharing",
    ),
    path(
        "strategies/<slug:slug>/<int:year>/cost-sharing.<str:fmt>",
        views.cost_sharing_file,
        name="cost-sharing-file",
    ),
    path("strategies/<slug:slug>/annex.pdf", views.strategy_annex_file, name="strategy-annex"),
    path(
        "strategies/<slug:slug>/resolution/<slug:municipality_slug>.pdf",
        views.strategy_resolution_file,
        name="strategy-resolution",
    ),
    path("strategies/<slug:slug>/changes/", views.strategy_changes_page, name="strategy-changes"),
    path("strategies/<slug:slug>/projection/", views.projection_page, name="projection"),
    path(
        "strategies/<slug:slug>/projection.<str:fmt>",
        views.projection_file,
        name="projection-file",
    ),
    path("revisions/<int:pk>/annex.pdf", views.revision_annex_file, name="revision-annex"),
    path("annual-reports/<int:pk>/", views.annual_report_page, name="annual-report"),
    path("annual-reports/<int:pk>.<str:fmt>", views.annual_report_file, name="annual-report-file"),
    path(
        "council-submissions/<int:pk>.pdf",
        views.council_submission_file,
        name="council-submission",
    ),
    path("action-plans/", views.action_plan_list, name="action-plans"),
    path("action-plans/<slug:slug>/", views.action_plan_page, name="action-plan"),
    path("action-plans/<slug:slug>.pdf", views.action_plan_file, name="action-plan-file"),
    path(
        "action-plans/<slug:slug>/progress/",
        views.action_plan_page,
        {"progress": True},
        name="action-plan-progress",
    ),
    path(
        "action-plans/<slug:slug>/progress.pdf",
        views.action_plan_file,
        {"progress": True},
        name="action-plan-progress-file",
    ),
]
