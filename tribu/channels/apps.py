from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "tribu.channels"
    label = "channels"
    verbose_name = _("Channels")

    def ready(self):
        # Registers the "channel.reconnect_needed" notification kind and audit sentences.
        from tribu.channels import tasks  # noqa: F401
        from tribu.channels.services import audit_sentences, notifying  # noqa: F401
