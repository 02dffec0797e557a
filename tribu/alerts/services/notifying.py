"""The "alert.opened" notification: its texts, and the one call that sends it.

Texts are built from the notification's params (the alert's explanation snapshot) when the
notification is shown or sent, in the reader's language.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy

from tribu.alerts.services import explanation as explaining
from tribu.notifications.kinds import register_kind

KIND = "alert.opened"

register_kind(
    KIND,
    title=explaining.title,
    body=explaining.summary,
    permission="workspace.view",
    label=gettext_lazy("Bad-buzz alerts"),
)


def notify_opened(alert):
    """Tell the workspace's members that `alert` opened (in-app, email, webhooks)."""
    from tribu.notifications.services import notify

    url = reverse("alerts:detail", args=[alert.workspace.slug, alert.pk])
    params = {**alert.explanation, "alert_id": alert.pk}
    return notify(alert.workspace, KIND, params=params, url=url)
