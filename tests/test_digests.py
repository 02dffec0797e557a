import socket
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tribu.core.models import AuditDigest, AuditEvent, Workspace
from tribu.core.roles import Role
from tribu.core.services import audit, digests


@pytest.fixture
def period_end(workspace):
    """A daily workspace whose digest period ends an hour from now; the workspace's own
    creation event is moved out of the period."""
    Workspace.objects.filter(pk=workspace.pk).update(audit_digest="daily")
    workspace.refresh_from_db()
    AuditEvent.objects.filter(workspace=workspace).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    mail.outbox.clear()
    return timezone.now() + timedelta(hours=1)


def record_at(workspace, when, action="member.invited", **fields):
    event = audit.record(workspace, action, **fields)
    AuditEvent.objects.filter(pk=event.pk).update(created_at=when)
    return event


def test_digest_lists_the_period_events_and_only_them(workspace, user, period_end):
    record_at(workspace, period_end - timedelta(hours=2), actor=user, target="inside@example.com")
    record_at(workspace, period_end - timedelta(days=2), target="too-old@example.com")
    record_at(workspace, period_end + timedelta(minutes=1), target="too-new@example.com")

    digest = digests.send_audit_digest(workspace.pk, period_end)

    assert digest.event_count == 1
    assert digest.sent_at is not None
    assert digest.period_start == period_end - timedelta(days=1)
    [message] = mail.outbox
    assert message.to == [user.email]
    assert "Acme" in message.subject
    assert "inside@example.com" in message.body
    assert "alice@example.com" in message.body  # the actor
    assert "too-old" not in message.body and "too-new" not in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "inside@example.com" in html
    assert "/w/acme/audit/" in message.body


def test_each_owner_gets_the_digest_in_their_language_and_others_get_nothing(
    workspace, make_member, make_user, period_end
):
    french_owner = make_member(workspace, Role.OWNER, make_user("marie@example.com", language="fr"))
    make_member(workspace, Role.ADMIN, make_user("admin@example.com"))
    make_member(workspace, Role.EDITOR)
    record_at(workspace, period_end - timedelta(hours=2), target="x@example.com")
    Workspace.objects.filter(pk=workspace.pk).update(language="en")
    # 15 January: the month name shows the language of the dates and template.
    january = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    AuditEvent.objects.filter(workspace=workspace, target_label="x@example.com").update(
        created_at=january
    )

    digests.send_audit_digest(workspace.pk, january + timedelta(hours=1))

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"alice@example.com", french_owner.email}
    assert "janvier" in by_recipient[french_owner.email].body
    assert "Jan. 15, 2026" in by_recipient["alice@example.com"].body


def test_times_are_shown_in_the_workspace_time_zone(workspace, period_end):
    Workspace.objects.filter(pk=workspace.pk).update(timezone="Asia/Tokyo", language="en")
    moment = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
    record_at(workspace, moment, target="late@example.com")

    digests.send_audit_digest(workspace.pk, moment + timedelta(hours=1))

    [message] = mail.outbox
    assert "Jan. 16, 2026, 8:30 a.m." in message.body  # 23:30 UTC is 08:30 next day in Tokyo
    assert "Asia/Tokyo" in message.body


def test_nothing_is_sent_for_an_empty_period_but_the_period_is_recorded(workspace, period_end):
    digest = digests.send_audit_digest(workspace.pk, period_end)
    assert digest.event_count == 0
    assert digest.sent_at is None
    assert mail.outbox == []


def test_sending_twice_for_the_same_period_sends_once(workspace, period_end):
    record_at(workspace, period_end - timedelta(hours=2))
    assert digests.send_audit_digest(workspace.pk, period_end) is not None
    assert digests.send_audit_digest(workspace.pk, period_end) is None
    assert len(mail.outbox) == 1
    assert AuditDigest.objects.filter(workspace=workspace).count() == 1


def test_next_period_starts_where_the_previous_digest_ended(workspace, period_end):
    first_end = period_end - timedelta(days=3)
    digests.send_audit_digest(workspace.pk, first_end)
    # The worker was down for two days: the next digest covers everything since.
    record_at(workspace, first_end + timedelta(hours=5), target="during-downtime@example.com")
    digest = digests.send_audit_digest(workspace.pk, period_end)
    assert digest.period_start == first_end
    assert "during-downtime@example.com" in mail.outbox[-1].body


def test_long_digests_list_the_first_events_and_count_the_rest(workspace, period_end, monkeypatch):
    monkeypatch.setattr(digests, "MAX_LISTED_EVENTS", 2)
    Workspace.objects.filter(pk=workspace.pk).update(language="en")
    for minute in range(5):
        record_at(workspace, period_end - timedelta(minutes=30 - minute), target=f"t{minute}")
    digests.send_audit_digest(workspace.pk, period_end)
    [message] = mail.outbox
    assert "5 audit events" in message.subject
    assert "…and 3 more events." in message.body


def test_a_deleted_workspace_is_skipped(db):
    assert digests.send_audit_digest(999_999, timezone.now()) is None


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_when_no_owner_can_be_emailed_the_period_is_released_for_a_retry(
    workspace, period_end, settings
):
    record_at(workspace, period_end - timedelta(hours=2))
    # A real SMTP backend pointed at a closed loopback port: the connection is refused.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = unused_port()
    settings.EMAIL_TIMEOUT = 2

    with pytest.raises(digests.DigestSendError, match="TRIBU_EMAIL_URL"):
        digests.send_audit_digest(workspace.pk, period_end)
    assert not AuditDigest.objects.filter(workspace=workspace).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digests.send_audit_digest(workspace.pk, period_end).sent_at is not None
    assert len(mail.outbox) == 1
