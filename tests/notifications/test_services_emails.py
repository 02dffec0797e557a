"""Emails: immediate, hourly and daily digests, quiet hours (across midnight), languages,
retries on a mail server failure. The clock is time-machine's."""

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
import time_machine

from tribu.notifications.models import Delivery, Notification, NotificationPreference
from tribu.notifications.services import notify
from tribu.notifications.services import preferences as prefs
from tribu.notifications.tasks import claim_due_deliveries, claim_due_emails

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


def tick(at):
    with time_machine.travel(at, tick=False):
        return claim_due_emails(at) + claim_due_deliveries(at)


def notify_at(at, workspace, **kwargs):
    with time_machine.travel(at, tick=False):
        return notify(workspace, "tests.spike", **kwargs)


def set_pref(user, workspace, **fields):
    NotificationPreference.objects.update_or_create(user=user, workspace=workspace,
                                                    defaults=fields)  # fmt: skip


@pytest.fixture
def alone(workspace, user, settings):
    """acme with its owner only, in English; links point at tribu.example."""
    settings.TRIBU_BASE_URL = "https://tribu.example"
    user.language = "en"
    user.save(update_fields=["language"])
    return user


def test_immediate_email_in_the_recipients_language_with_links(team, workspace, mailoutbox,
                                                                settings):  # fmt: skip
    settings.TRIBU_BASE_URL = "https://tribu.example"
    at = paris(2025, 3, 4, 10, 0)
    notify_at(at, workspace, params={"topic": "Aube", "count": 3}, url="/w/acme/listening/")
    tick(at)
    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert set(by_recipient) == {u.email for u in team.values()}
    english = by_recipient[team["editor"].email]
    assert english.subject == "[Acme] [en] Spike on Aube"
    assert "https://tribu.example/w/acme/listening/" in english.body
    assert "https://tribu.example/w/acme/notifications/preferences/" in english.body
    assert "3 mentions" in english.body
    assert by_recipient[team["viewer"].email].subject == "[Acme] [fr] Spike on Aube"
    assert Delivery.objects.filter(channel="email", state="succeeded").count() == 3
    assert not Notification.objects.filter(email_pending=True).exists()
    # Nothing more to send.
    mailoutbox.clear()
    tick(at + timedelta(minutes=5))
    assert mailoutbox == []


def test_notifications_waiting_together_go_in_one_email(alone, make_member, workspace,
                                                         mailoutbox):  # fmt: skip
    at = paris(2025, 3, 4, 10, 0)
    notify_at(at, workspace, params={"topic": "Aube"})
    notify_at(at + timedelta(seconds=1), workspace, params={"topic": "Rotin"})
    tick(at + timedelta(seconds=2))
    [message] = mailoutbox
    assert message.subject == "[Acme] 2 notifications"
    assert "[en] Spike on Aube" in message.body and "[en] Spike on Rotin" in message.body


def test_quiet_hours_across_midnight_hold_emails_until_they_end(alone, workspace, mailoutbox):
    set_pref(alone, workspace, quiet_start=time(22, 0), quiet_end=time(7, 0))
    notify_at(paris(2025, 3, 4, 23, 30), workspace, params={"topic": "Aube"})
    notify_at(paris(2025, 3, 5, 2, 15), workspace, params={"topic": "Rotin"})
    tick(paris(2025, 3, 4, 23, 31))
    tick(paris(2025, 3, 5, 6, 59))
    assert mailoutbox == []
    tick(paris(2025, 3, 5, 7, 0))
    [message] = mailoutbox
    assert message.subject == "[Acme] 2 notifications"


def test_quiet_hours_set_after_scheduling_still_hold_the_email(alone, workspace, mailoutbox):
    at = paris(2025, 3, 4, 23, 0)
    notify_at(at, workspace)
    # Set directly (not through the preferences page, which re-plans): the batch checks.
    NotificationPreference.objects.filter(user=alone).update(
        quiet_start=time(22, 0), quiet_end=time(7, 0)
    )
    tick(at)
    assert mailoutbox == []
    tick(paris(2025, 3, 5, 7, 0))
    assert len(mailoutbox) == 1


def test_hourly_digest(alone, workspace, mailoutbox):
    set_pref(alone, workspace, email="hourly")
    notify_at(paris(2025, 3, 4, 10, 5), workspace, params={"topic": "Aube"})
    notify_at(paris(2025, 3, 4, 10, 40), workspace, params={"topic": "Rotin"})
    tick(paris(2025, 3, 4, 10, 59))
    assert mailoutbox == []
    tick(paris(2025, 3, 4, 11, 0))
    [message] = mailoutbox
    assert message.subject == "[Acme] 2 notifications"


def test_daily_digest_at_eight_local_time(alone, workspace, mailoutbox):
    set_pref(alone, workspace, email="daily")
    notify_at(paris(2025, 3, 4, 9, 0), workspace, params={"topic": "Aube"})
    notify_at(paris(2025, 3, 4, 18, 0), workspace, params={"topic": "Rotin"})
    notify_at(paris(2025, 3, 5, 1, 0), workspace, params={"topic": "Lampe"})
    tick(paris(2025, 3, 4, 20, 0))
    tick(paris(2025, 3, 5, 7, 59))
    assert mailoutbox == []
    tick(paris(2025, 3, 5, 8, 0))
    [message] = mailoutbox
    assert message.subject == "[Acme] 3 notifications"
    # The next day's digest only has what came after.
    notify_at(paris(2025, 3, 5, 12, 0), workspace, params={"topic": "Table"})
    tick(paris(2025, 3, 6, 8, 0))
    assert mailoutbox[1].subject == "[Acme] [en] Spike on Table"


def test_email_off_and_muted_kinds_send_nothing(alone, workspace, mailoutbox):
    set_pref(alone, workspace, email="off")
    at = paris(2025, 3, 4, 10, 0)
    notify_at(at, workspace)
    tick(at + timedelta(days=2))
    assert mailoutbox == []
    assert Notification.objects.count() == 1  # still in the centre


def test_switching_from_daily_to_immediate_sends_what_waits(alone, workspace, mailoutbox):
    set_pref(alone, workspace, email="daily")
    at = paris(2025, 3, 4, 10, 0)
    notify_at(at, workspace)
    with time_machine.travel(at + timedelta(minutes=1), tick=False):
        prefs.save(prefs.get(alone, workspace), email="immediate", quiet_start=None,
                   quiet_end=None, muted_kinds=[])  # fmt: skip
    tick(at + timedelta(minutes=1))
    assert len(mailoutbox) == 1


def test_turning_email_off_forgets_what_waits(alone, workspace, mailoutbox):
    set_pref(alone, workspace, email="daily")
    at = paris(2025, 3, 4, 10, 0)
    notify_at(at, workspace)
    with time_machine.travel(at, tick=False):
        prefs.save(prefs.get(alone, workspace), email="off", quiet_start=None, quiet_end=None,
                   muted_kinds=[])  # fmt: skip
    tick(at)
    tick(at + timedelta(days=1))
    assert mailoutbox == []
    assert not Notification.objects.filter(email_pending=True).exists()


def test_a_mail_server_failure_is_retried_and_logged(alone, workspace, mailoutbox, settings):
    # A real SMTP connection to a closed port on loopback.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    at = paris(2025, 3, 4, 10, 0)
    notify_at(at, workspace)
    tick(at)
    delivery = Delivery.objects.get(channel="email")
    assert delivery.state == "pending" and delivery.attempts == 1
    assert "TRIBU_EMAIL_URL" in delivery.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tick(at + timedelta(minutes=2))
    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.attempts == 2
    assert len(mailoutbox) == 1
    assert [a.ok for a in delivery.log.all()] == [False, True]


def test_a_member_who_left_gets_no_email(alone, workspace, make_member, mailoutbox):
    from tribu.core.models import Membership

    other = make_member(workspace)
    at = paris(2025, 3, 4, 10, 0)
    notify_at(at, workspace)
    Membership.objects.filter(user=other).delete()
    tick(at)
    assert [m.to for m in mailoutbox] == [[alone.email]]
