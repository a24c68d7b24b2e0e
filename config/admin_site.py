"""The project's admin site: Django's, with URL parameters checked on every registered admin."""

from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.apps import AdminConfig

from config.admin_safety import SafeParametersMixin


class SafeModelAdmin(SafeParametersMixin, ModelAdmin):
    """What ``register(Model)`` without an admin class gets."""


class ProjectAdminSite(AdminSite):
    """Mixes ``SafeParametersMixin`` into each admin as it is registered.

    At registration rather than in each class statement: the libraries' admins (users,
    groups, django-axes' logs) take the same URL parameters, and a new admin of the project
    is covered without anyone remembering to.
    """

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or SafeModelAdmin
        if not issubclass(admin_class, SafeParametersMixin):
            admin_class = type(
                admin_class.__name__,
                (SafeParametersMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)


class ProjectAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the project's site as ``admin.site``."""

    default_site = "config.admin_site.ProjectAdminSite"
