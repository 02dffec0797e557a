"""Audit-log sentences for webhook changes, registered into core's SENTENCES (a plain
dict that `describe` reads at display time)."""

from django.utils.translation import gettext_lazy

from tribu.core.services.audit import SENTENCES

SENTENCES.update(
    {
        "webhook.created": gettext_lazy("%(actor)s added the webhook “%(target)s” (%(url)s)."),
        "webhook.enabled": gettext_lazy("%(actor)s turned on the webhook “%(target)s”."),
        "webhook.disabled": gettext_lazy("%(actor)s turned off the webhook “%(target)s”."),
        "webhook.deleted": gettext_lazy("%(actor)s deleted the webhook “%(target)s”."),
        "webhook.secret_revealed": gettext_lazy(
            "%(actor)s displayed the signing secret of the webhook “%(target)s”."
        ),
        "webhook.secret_rotated": gettext_lazy(
            "%(actor)s replaced the signing secret of the webhook “%(target)s”."
        ),
    }
)
