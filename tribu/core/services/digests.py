"""Audit digests: an email to each owner summarising a period of the workspace's audit log.

The tick (tribu.core.tick.claim_audit_digests) decides *when*; the task calls
`send_audit_digest`. The AuditDigest row, unique per (workspace, period_end), makes the
sending idempotent: a second run for the same period finds the row and does nothing.
Emails are sent outside any database transaction, so a slow SMTP server never holds a lock.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from tribu.core.models import AuditDigest, AuditEvent, Membership, Workspace
from tribu.core.roles import Role
from tribu.core.services.audit import describe
from tribu.core.tick import DIGEST_PERIODS, previous_digest_at, workspace_tz

logger = logging.getLogger(__name__)

# A digest lists at most this many events, then says how many more there were.
MAX_LISTED_EVENTS = 100
# After a long pause, a digest never reaches further back than this.
MAX_PERIOD = DIGEST_PERIODS[Workspace.Digest.WEEKLY] * 5


class DigestSendError(RuntimeError):
    """No owner could be emailed; the task retries."""


def period_start_for(workspace, period_end):
    """Where the digest ending at `period_end` starts: where the previous digest ended, so
    no event is skipped after downtime; else one period back."""
    previous = (
        AuditDigest.objects.filter(workspace=workspace, period_end__lt=period_end)
        .order_by("-period_end")
        .values_list("period_end", flat=True)
        .first()
    )
    if previous is not None and period_end - previous <= MAX_PERIOD:
        return previous
    frequency = workspace.audit_digest
    if frequency not in DIGEST_PERIODS:
        frequency = Workspace.Digest.DAILY
    return previous_digest_at(frequency, workspace_tz(workspace.timezone), period_end)


def owner_recipients(workspace):
    return [
        membership.user
        for membership in Membership.objects.filter(
            workspace=workspace, role=Role.OWNER, user__is_active=True
        ).select_related("user")
    ]


def audit_path(workspace):
    try:
        return reverse("core:audit", kwargs={"ws": workspace.slug})
    except NoReverseMatch:
        return reverse("core:workspace_home", kwargs={"ws": workspace.slug})


def build_message(workspace, user, digest, events, total):
    """One owner's email, in their language (else the workspace's), times in the workspace's
    time zone."""
    language = user.language or workspace.language or settings.LANGUAGE_CODE
    tz = workspace_tz(workspace.timezone)
    with translation.override(language), timezone.override(tz):
        for event in events:
            event.description = describe(event)
        context = {
            "workspace": workspace,
            "user": user,
            "events": events,
            "total": total,
            "more": total - len(events),
            "period_start": digest.period_start,
            "period_end": digest.period_end,
            "audit_url": settings.TRIBU_BASE_URL + audit_path(workspace),
        }
        subject = ngettext(
            "%(workspace)s: %(count)d audit event",
            "%(workspace)s: %(count)d audit events",
            total,
        ) % {
            "workspace": workspace.name,
            "count": total,
        }
        text = render_to_string("core/email/audit_digest.txt", context)
        html = render_to_string("core/email/audit_digest.html", context)
    message = EmailMultiAlternatives(subject, text, None, [user.email])
    message.attach_alternative(html, "text/html")
    return message


def send_audit_digest(workspace_id, period_end):
    """Email the digest of [period start, period_end) to the workspace's owners, once.

    Returns the AuditDigest row, or None when another run already handled this period or the
    workspace is gone. Nothing is emailed when the period had no events.
    """
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return None
    period_start = period_start_for(workspace, period_end)
    events_qs = AuditEvent.objects.filter(
        workspace=workspace, created_at__gte=period_start, created_at__lt=period_end
    )
    total = events_qs.count()
    try:
        # Creating the row is the idempotency claim: the unique (workspace, period_end)
        # lets exactly one run through, even if the task were enqueued twice.
        with transaction.atomic():
            digest = AuditDigest.objects.create(
                workspace=workspace,
                period_start=period_start,
                period_end=period_end,
                event_count=total,
            )
    except IntegrityError:
        logger.info("Audit digest %s/%s already handled", workspace.slug, period_end)
        return None
    if total == 0:
        return digest

    events = list(events_qs.order_by("created_at", "id")[:MAX_LISTED_EVENTS])
    recipients = owner_recipients(workspace)
    sent, failed = 0, []
    # Network calls, outside any transaction.
    for user in recipients:
        try:
            build_message(workspace, user, digest, events, total).send()
            sent += 1
        except Exception:
            logger.exception("Could not email the audit digest of %s to %s", workspace, user)
            failed.append(user.email)
    if recipients and not sent:
        # Nobody got it: forget the row so the task's retry sends it again.
        digest.delete()
        raise DigestSendError(
            f"audit digest of {workspace.slug}: no owner could be emailed "
            "(check TRIBU_EMAIL_URL); the task will retry"
        )
    # Some owners got it: mark it sent rather than email them twice on a retry.
    digest.sent_at = timezone.now()
    digest.save(update_fields=["sent_at"])
    return digest
