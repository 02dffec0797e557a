from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListeningConfig(AppConfig):
    name = "tribu.listening"
    label = "listening"
    verbose_name = _("Listening")

    def ready(self):
        # Registers the tick's source claimer (tribu.core.tick.CLAIMERS) and the poll task
        # in every process: web, worker and commands.
        from tribu.listening.services import polling  # noqa: F401
