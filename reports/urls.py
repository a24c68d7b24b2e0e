from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
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
]
