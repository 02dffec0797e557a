"""The notification centre: a user's notifications in one workspace, read and unread."""

from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from tribu.notifications.kinds import render
from tribu.notifications.models import Notification


def for_user(user, workspace):
    return Notification.objects.filter(user=user, workspace=workspace)


def rendered(notifications):
    """Attach `title` and `body` in the active language to each notification."""
    for notification in notifications:
        notification.title, notification.body = render(notification.kind, notification.params)
    return notifications


def mark_read(notification, now=None):
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now or timezone.now()
        )


def mark_all_read(user, workspace, now=None):
    return (
        for_user(user, workspace).filter(read_at__isnull=True).update(read_at=now or timezone.now())
    )


def safe_target(url, allowed_hosts):
    """The notification's link when it stays on this site, else None."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=allowed_hosts):
        return url
    return None
