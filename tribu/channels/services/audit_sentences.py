"""Audit-log sentences for channels, added to core's SENTENCES (read at display time)."""

from django.utils.translation import gettext_lazy

from tribu.core.services.audit import SENTENCES

SENTENCES.update(
    {
        "channel.connected": gettext_lazy("%(actor)s connected the channel “%(target)s”."),
        "channel.reconnected": gettext_lazy("%(actor)s reconnected the channel “%(target)s”."),
        "channel.reconnect_needed": gettext_lazy(
            "The network refused the credentials of the channel “%(target)s”: it must be "
            "reconnected."
        ),
        "channel.disabled": gettext_lazy("%(actor)s disabled the channel “%(target)s”."),
        "channel.renamed": gettext_lazy(
            "%(actor)s renamed the channel “%(old_name)s” to “%(target)s”."
        ),
        "channel.enabled": gettext_lazy("%(actor)s enabled the channel “%(target)s” again."),
        "channel.removed": gettext_lazy("%(actor)s removed the channel “%(target)s”."),
    }
)
