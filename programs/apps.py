from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = _("Associations and programmes")

    def ready(self):
        from programs.publication import publication_locks_connect

        publication_locks_connect()
