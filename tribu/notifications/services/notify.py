"""`notify`: the one call other apps make. It only stores rows (notifications, email
schedules, webhook deliveries); the worker sends. So it is cheap, and a broken webhook or
mail server never raises into the caller."""

import json
import uuid
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tribu.core.models import Membership
from tribu.core.roles import PERMISSIONS
from tribu.notifications.kinds import get_kind
from tribu.notifications.models import Delivery, Notification, NotificationPreference, Webhook
from tribu.notifications.services.schedule import email_due_at


def _recipients(workspace, kind, recipients):
    members = Membership.objects.filter(workspace=workspace, user__is_active=True).select_related(
        "user"
    )
    if recipients is None:
        members = members.filter(role__in=PERMISSIONS[kind.permission])
    else:
        # Explicit recipients are still limited to the workspace's members: a notification
        # must never leak a workspace to an outsider.
        ids = {getattr(user, "pk", user) for user in recipients}
        members = members.filter(user_id__in=ids)
    return [membership.user for membership in members.order_by("user_id")]


def schedule_emails(pref_ids, due):
    """Bring these preferences' next email forward to `due` (never push one later)."""
    NotificationPreference.objects.filter(pk__in=pref_ids).filter(
        Q(next_email_at__isnull=True) | Q(next_email_at__gt=due)
    ).update(next_email_at=due)


def preferences_for(workspace, users):
    """{user id: NotificationPreference}, creating the missing ones with the defaults."""
    ids = [user.pk for user in users]
    existing = NotificationPreference.objects.filter(workspace=workspace, user_id__in=ids)
    found = {pref.user_id: pref for pref in existing}
    missing = [
        NotificationPreference(workspace=workspace, user_id=pk) for pk in ids if pk not in found
    ]
    if missing:
        NotificationPreference.objects.bulk_create(missing, ignore_conflicts=True)
        found = {pref.user_id: pref for pref in existing.all()}
    return found


def notify(workspace, kind, params=None, url="", recipients=None, actor=None):
    """Notify the workspace's members about `kind` and queue emails and webhook calls.

    recipients: None for every active member holding the kind's permission, else an
    iterable of users (limited to members). The actor is never notified of their own
    action. Returns the Notification rows created.
    Raises KeyError for an unregistered kind and TypeError for params that are not JSON:
    both are programming errors, never delivery problems.
    """
    spec = get_kind(kind)
    if spec is None:
        raise KeyError(f"Unknown notification kind {kind!r}: call register_kind() first")
    params = dict(params or {})
    json.dumps(params)  # raises TypeError now rather than in the worker
    now = timezone.now()
    event_id = uuid.uuid4()
    users = [user for user in _recipients(workspace, spec, recipients)
             if actor is None or user.pk != actor.pk]  # fmt: skip
    with transaction.atomic():
        prefs = preferences_for(workspace, users) if users else {}
        rows, schedules = [], defaultdict(list)  # due time → preference ids
        for user in users:
            pref = prefs.get(user.pk)
            if pref is not None and kind in (pref.muted_kinds or []):
                continue
            mode = pref.email if pref else NotificationPreference.Email.IMMEDIATE
            due = email_due_at(
                mode,
                pref.quiet_start if pref else None,
                pref.quiet_end if pref else None,
                workspace.timezone,
                now,
            )
            rows.append(
                Notification(
                    workspace=workspace,
                    user=user,
                    kind=kind,
                    params=params,
                    url=url or "",
                    actor=actor,
                    event_id=event_id,
                    created_at=now,
                    email_pending=due is not None,
                )
            )
            if due is not None and pref is not None:
                schedules[due].append(pref.pk)
        created = Notification.objects.bulk_create(rows)
        # Usually one UPDATE: recipients sharing a mode and quiet hours share a due time.
        for due, pref_ids in schedules.items():
            schedule_emails(pref_ids, due)
        webhooks = [hook for hook in Webhook.objects.filter(workspace=workspace, enabled=True)
                    if hook.wants(kind)]  # fmt: skip
        Delivery.objects.bulk_create(
            webhook_delivery(hook, kind, params, url, event_id, now) for hook in webhooks
        )
    return created


def webhook_delivery(webhook, kind, params, url, event_id, now):
    return Delivery(
        workspace_id=webhook.workspace_id,
        channel=Delivery.Channel.WEBHOOK,
        webhook=webhook,
        kind=kind,
        payload={
            "id": str(event_id),
            "kind": kind,
            "params": params,
            "url": url or "",
            "created_at": now.isoformat(),
        },
        next_attempt_at=now,
        created_at=now,
    )
