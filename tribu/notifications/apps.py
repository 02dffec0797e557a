from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "tribu.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Registers the tick's claimers (tribu.core.tick.CLAIMERS), the huey tasks, the
        # built-in "notifications.test" kind and the audit sentences, in every process.
        from tribu.notifications import kinds, tasks  # noqa: F401
        from tribu.notifications.services import audit_sentences  # noqa: F401
