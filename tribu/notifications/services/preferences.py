"""A user's notification preferences for one workspace."""

from django.utils import timezone

from tribu.notifications.models import Notification, NotificationPreference
from tribu.notifications.services.schedule import email_due_at


def get(user, workspace):
    pref, _created = NotificationPreference.objects.get_or_create(user=user, workspace=workspace)
    return pref


def save(pref, *, email, quiet_start, quiet_end, muted_kinds, now=None):
    """Store the choices and re-plan the next email for what is already waiting: switching
    from a daily digest to immediate sends now, turning quiet hours on holds it."""
    now = now or timezone.now()
    pref.email = email
    pref.quiet_start = quiet_start
    pref.quiet_end = quiet_end
    pref.muted_kinds = sorted(set(muted_kinds))
    waiting = Notification.objects.filter(
        user_id=pref.user_id,
        workspace_id=pref.workspace_id,
        email_pending=True,
        email_delivery__isnull=True,
    ).exists()
    pref.next_email_at = None
    if waiting:
        # "Off" still gets a run: the batch then forgets the waiting emails.
        due = email_due_at(email, quiet_start, quiet_end, pref.workspace.timezone, now)
        pref.next_email_at = due or now
    pref.save()
    return pref
