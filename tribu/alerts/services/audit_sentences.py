"""Audit-log sentences for alerts, added to core's SENTENCES (read at display time)."""

from django.utils.translation import gettext_lazy

from tribu.core.services.audit import SENTENCES

SENTENCES.update(
    {
        "alert.opened": gettext_lazy("A bad-buzz alert opened on the topic “%(target)s”."),
        "alert.acknowledged": gettext_lazy(
            "%(actor)s acknowledged the bad-buzz alert on the topic “%(target)s”."
        ),
        "alert.closed": gettext_lazy(
            "%(actor)s closed the bad-buzz alert on the topic “%(target)s”."
        ),
        "alert_rule.updated": gettext_lazy(
            "%(actor)s changed the bad-buzz alert settings of the topic “%(target)s”."
        ),
    }
)
