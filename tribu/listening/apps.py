from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListeningConfig(AppConfig):
    name = "tribu.listening"
    label = "listening"
    verbose_name = _("Listening")
