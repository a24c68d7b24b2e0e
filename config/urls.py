"""URL configuration: the admin, language switching, and the home page."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

# Money tables are wide; the index page already lists every model, so the sidebar goes.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("reports/", include("reports.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
