from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "tribu.alerts"
    label = "alerts"
    verbose_name = _("Bad-buzz alerts")

    def ready(self):
        # Registers, in every process (web, worker, commands): the tick's rule claimer and the
        # check task, the "alert.opened" notification kind and the audit-log sentences.
        from tribu.alerts import tasks  # noqa: F401
        from tribu.alerts.services import audit_sentences, notifying  # noqa: F401
