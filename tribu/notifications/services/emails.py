"""Emails: each user's pending notifications of one workspace go out together, as one email.

`NotificationPreference.next_email_at` is the schedule: `notify` brings it forward to
"now" (immediate), the next hour (hourly digest) or 08:00 local (daily digest), never
inside quiet hours. The tick claims due preferences; `batch_email` then moves the pending
notifications into one email Delivery (conditional UPDATE, so a notification is in one
email at most), and the delivery is sent and retried like a webhook call.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu.core.models import Membership
from tribu.core.tick import workspace_tz
from tribu.notifications.kinds import render
from tribu.notifications.models import Delivery, Notification, NotificationPreference
from tribu.notifications.services.schedule import after_quiet_hours, email_due_at
from tribu.notifications.services.webhooks import absolute_url

# An email lists at most this many notifications, then says how many more there are.
MAX_LISTED = 50


def pending_for(pref):
    return Notification.objects.filter(
        user_id=pref.user_id,
        workspace_id=pref.workspace_id,
        email_pending=True,
        email_delivery__isnull=True,
    )


def _finish(pref, lease, now):
    """Release the claim: clear the schedule, or keep one if notifications still wait
    (created while this batch ran, for instance)."""
    following = None
    if pending_for(pref).exists():
        following = email_due_at(
            pref.email, pref.quiet_start, pref.quiet_end, pref.workspace.timezone, now
        )
    NotificationPreference.objects.filter(pk=pref.pk, next_email_at=lease).update(
        next_email_at=following
    )


def batch_email(pref_id, lease, now=None):
    """Turn one user's pending notifications into one email Delivery, if the preference
    still holds `lease` (see the module docstring). Returns the Delivery or None."""
    now = now or timezone.now()
    pref = (
        NotificationPreference.objects.select_related("user", "workspace")
        .filter(pk=pref_id)
        .first()
    )
    if pref is None or pref.next_email_at != lease:
        return None
    tz = workspace_tz(pref.workspace.timezone)
    held = after_quiet_hours(now, pref.quiet_start, pref.quiet_end, tz)
    if held != now:
        # Quiet hours (perhaps just set): hold everything until they end.
        NotificationPreference.objects.filter(pk=pref.pk, next_email_at=lease).update(
            next_email_at=held
        )
        return None
    pending = pending_for(pref)
    member = Membership.objects.filter(workspace=pref.workspace, user=pref.user).exists()
    if pref.email == NotificationPreference.Email.OFF or not member or not pref.user.is_active:
        pending.update(email_pending=False)
    elif pref.muted_kinds:
        pending.filter(kind__in=pref.muted_kinds).update(email_pending=False)
    delivery = None
    ids = list(pending.filter(created_at__lte=now).values_list("id", flat=True))
    if ids:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                workspace=pref.workspace,
                channel=Delivery.Channel.EMAIL,
                user=pref.user,
                kind="digest" if len(ids) > 1 else "",
                next_attempt_at=now,
                created_at=now,
            )
            taken = Notification.objects.filter(
                pk__in=ids, email_pending=True, email_delivery__isnull=True
            ).update(email_pending=False, email_delivery=delivery)
            if not taken:
                delivery.delete()
                delivery = None
    _finish(pref, lease, now)
    return delivery


def build_message(delivery):
    """The email of a Delivery, in the recipient's language (else the workspace's), plain
    text with absolute links. None when it has nothing left to say."""
    user, workspace = delivery.user, delivery.workspace
    notifications = list(
        delivery.notifications.order_by("-created_at", "-id").select_related("actor")
    )
    if not notifications:
        return None
    language = user.language or workspace.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(workspace_tz(workspace.timezone)):
        items = []
        for notification in notifications[:MAX_LISTED]:
            title, body = render(notification.kind, notification.params)
            items.append(
                {
                    "title": title,
                    "body": body,
                    "url": absolute_url(notification.url) if notification.url else "",
                    "created_at": notification.created_at,
                }
            )
        total = len(notifications)
        if total == 1:
            subject = f"[{workspace.name}] {items[0]['title']}"
        else:
            subject = ngettext(
                "[%(workspace)s] %(count)d notification",
                "[%(workspace)s] %(count)d notifications",
                total,
            ) % {"workspace": workspace.name, "count": total}
        context = {
            "workspace": workspace,
            "user": user,
            "items": items,
            "total": total,
            "more": total - len(items),
            "centre_url": absolute_url(
                reverse("notifications:centre", kwargs={"ws": workspace.slug})
            ),
            "preferences_url": absolute_url(
                reverse("notifications:preferences", kwargs={"ws": workspace.slug})
            ),
        }
        text = render_to_string("notifications/email/notifications.txt", context)
    # Subjects are one line: a title with a newline would break the header.
    subject = " ".join(subject.split())[:200]
    return EmailMessage(subject, text, None, [user.email])


def send(delivery):
    """Send the email; raises on an SMTP problem (the caller records and retries)."""
    message = build_message(delivery)
    if message is None:
        return _("Nothing to send: the notifications were deleted.")
    message.send()
    return ""
