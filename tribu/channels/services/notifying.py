"""The "channel.reconnect_needed" notification: a network refused a channel's credentials."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribu.notifications.kinds import register_kind

KIND = "channel.reconnect_needed"


def title(params):
    return _("Reconnect %(channel)s") % {"channel": params.get("channel", "")}


def body(params):
    return _(
        "%(network)s refused Tribu's access to %(channel)s. Its posts are held, not lost: "
        "they go out as soon as someone reconnects the channel."
    ) % {"network": params.get("network", ""), "channel": params.get("channel", "")}


register_kind(
    KIND,
    title=title,
    body=body,
    permission="channels.manage",
    label=gettext_lazy("Channels to reconnect"),
)


def reconnect_needed(channel):
    from tribu.notifications.services import notify

    url = reverse("channels:list", args=[channel.workspace.slug])
    params = {
        "channel": channel.name,
        "network": channel.get_network_display(),
        "channel_id": channel.pk,
    }
    return notify(channel.workspace, KIND, params=params, url=url)
