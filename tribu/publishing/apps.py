from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "tribu.publishing"
    label = "publishing"
    verbose_name = _("Publishing")

    def ready(self):
        # Registers, in every process: the tick's claimers and tasks, the notification
        # kinds and the audit-log sentences.
        from tribu.publishing import tasks  # noqa: F401
        from tribu.publishing.services import audit_sentences, notifying  # noqa: F401
