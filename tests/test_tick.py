import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from tribu.core import tick
from tribu.core.models import AuditDigest, WorkerHeartbeat, Workspace
from tribu.core.services import audit

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


# Schedule ------------------------------------------------------------------------------


def test_daily_digest_is_due_at_the_next_local_midnight():
    after = paris(2026, 3, 10, 15, 30)
    assert tick.next_digest_at("daily", PARIS, after) == paris(2026, 3, 11, 0, 0)
    # Exactly at midnight: the next one, never the same instant (strictly after).
    assert tick.next_digest_at("daily", PARIS, paris(2026, 3, 11)) == paris(2026, 3, 12)


def test_daily_digest_follows_daylight_saving_time():
    # Paris moves to summer time on 29 March 2026: that day lasts 23 hours.
    first = tick.next_digest_at("daily", PARIS, paris(2026, 3, 28, 12))
    second = tick.next_digest_at("daily", PARIS, first)
    assert first == paris(2026, 3, 29)
    assert second == paris(2026, 3, 30)
    assert second - first == timedelta(hours=23)
    assert tick.previous_digest_at("daily", PARIS, second) == first


def test_weekly_digest_is_due_on_monday_at_eight_local_time():
    wednesday = paris(2026, 3, 11, 9)
    assert tick.next_digest_at("weekly", PARIS, wednesday) == paris(2026, 3, 16, 8)
    monday_early = paris(2026, 3, 16, 7, 59)
    assert tick.next_digest_at("weekly", PARIS, monday_early) == paris(2026, 3, 16, 8)
    monday_at_eight = paris(2026, 3, 16, 8)
    assert tick.next_digest_at("weekly", PARIS, monday_at_eight) == paris(2026, 3, 23, 8)


def test_schedule_uses_the_workspace_time_zone():
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    after = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo
    assert tick.next_digest_at("daily", tokyo, after) == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def test_unknown_time_zone_falls_back_to_the_default():
    assert tick.workspace_tz("Not/AZone") == zoneinfo.ZoneInfo("Europe/Paris")


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    frequency=st.sampled_from(["daily", "weekly"]),
    zone=st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"]),
)
def test_next_digest_is_always_ahead_and_within_one_period(moment, frequency, zone):
    tz = zoneinfo.ZoneInfo(zone)
    following = tick.next_digest_at(frequency, tz, moment)
    assert following > moment
    assert following - moment <= tick.DIGEST_PERIODS[frequency] + timedelta(hours=1)
    local = following.astimezone(tz)
    if frequency == "weekly":
        assert (local.weekday(), local.hour) == (0, 8)
    else:
        assert (local.hour, local.minute) == (0, 0)


# Claiming ------------------------------------------------------------------------------


def test_claim_row_wins_once_for_the_same_seen_value(make_workspace):
    workspace = make_workspace()
    now = timezone.now()
    seen = now - timedelta(minutes=1)
    Workspace.objects.filter(pk=workspace.pk).update(next_audit_digest_at=seen)
    following = now + timedelta(days=1)

    first = tick.claim_row(Workspace, workspace.pk, "next_audit_digest_at", seen, following, now)
    second = tick.claim_row(Workspace, workspace.pk, "next_audit_digest_at", seen, following, now)

    assert (first, second) == (True, False)
    workspace.refresh_from_db()
    assert workspace.next_audit_digest_at == following


def test_claim_row_refuses_a_row_that_is_not_due(make_workspace):
    workspace = make_workspace()
    now = timezone.now()
    later = now + timedelta(minutes=5)
    Workspace.objects.filter(pk=workspace.pk).update(next_audit_digest_at=later)
    assert not tick.claim_row(
        Workspace, workspace.pk, "next_audit_digest_at", later, later + timedelta(days=1), now
    )


def test_tick_initialises_missing_schedules(make_workspace):
    daily = make_workspace(slug="daily-ws")
    weekly = make_workspace(slug="weekly-ws")
    off = make_workspace(slug="off-ws")
    Workspace.objects.filter(pk=daily.pk).update(audit_digest="daily")
    Workspace.objects.filter(pk=off.pk).update(audit_digest="off")
    now = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # a Wednesday

    tick.claim_audit_digests(now)

    daily.refresh_from_db()
    weekly.refresh_from_db()
    off.refresh_from_db()
    assert daily.next_audit_digest_at == paris(2026, 3, 12)
    assert weekly.next_audit_digest_at == paris(2026, 3, 16, 8)
    assert off.next_audit_digest_at is None


def test_tick_claims_a_due_digest_once_and_schedules_the_next(workspace, user):
    audit.record(workspace, "member.invited", actor=user, target="bob@example.com")
    now = timezone.now()
    due = now  # the period ends now, so it holds the events recorded so far
    Workspace.objects.filter(pk=workspace.pk).update(audit_digest="daily", next_audit_digest_at=due)
    mail.outbox.clear()

    # Tasks run inline in tests (huey immediate mode): the claim sends the digest.
    assert tick.claim_audit_digests(now) == 1
    assert tick.claim_audit_digests(now) == 0

    digest = AuditDigest.objects.get(workspace=workspace)
    assert digest.period_end == due
    assert digest.sent_at is not None
    assert [message.to for message in mail.outbox] == [[user.email]]
    workspace.refresh_from_db()
    assert workspace.next_audit_digest_at > now
    assert workspace.next_audit_digest_at.astimezone(PARIS).hour == 0


def test_turning_digests_off_clears_the_schedule(workspace):
    now = timezone.now()
    Workspace.objects.filter(pk=workspace.pk).update(
        audit_digest="off", next_audit_digest_at=now - timedelta(days=30)
    )
    assert tick.claim_audit_digests(now) == 0
    workspace.refresh_from_db()
    assert workspace.next_audit_digest_at is None
    assert not AuditDigest.objects.exists()


# Heartbeat and the tick loop -----------------------------------------------------------


def test_run_once_writes_the_heartbeat_and_updates_it(db):
    first = timezone.now() - timedelta(minutes=1)
    tick.run_once("host:1", now=first)
    second = timezone.now()
    tick.run_once("host:1", now=second)

    beat = WorkerHeartbeat.objects.get(name="host:1")
    assert beat.started_at == first
    assert beat.last_seen_at == second
    assert beat.version


def test_old_heartbeats_are_forgotten(db):
    now = timezone.now()
    tick.beat("gone:1", now=now - timedelta(days=2))
    tick.beat("alive:2", now=now)
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["alive:2"]


def test_a_failing_claimer_does_not_stop_the_others(db, monkeypatch):
    calls = []

    def broken(now):
        raise RuntimeError("boom")

    def working(now):
        calls.append(now)
        return 1

    monkeypatch.setattr(tick, "CLAIMERS", [broken, working])
    claimed = tick.run_once("host:2")
    assert claimed == {"broken": 0, "working": 1}
    assert len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_ticker_thread_beats_until_stopped():
    ticker = tick.Ticker(interval=0.05, name="thread:1")
    ticker.start()
    try:
        for _ in range(100):
            if WorkerHeartbeat.objects.filter(name="thread:1").exists():
                break
            ticker.join(0.05)
    finally:
        ticker.stop()
    assert not ticker.is_alive()
    assert WorkerHeartbeat.objects.filter(name="thread:1").exists()


def test_housekeeping_runs_hourly_per_worker(db):
    """Registered clean-ups (such as the sign-in throttle's) run on the first tick, then at
    most once per HOUSEKEEPING_INTERVAL."""
    from tribu.accounts.models import LoginThrottle

    start = timezone.now()
    stale = start - timedelta(days=3)
    LoginThrottle.objects.create(
        scope="account", key="old@example.com", failures=2, last_failure_at=stale
    )
    tick._last_housekeeping.clear()
    tick.run_once("housekeeping-test", now=start)
    assert not LoginThrottle.objects.filter(key="old@example.com").exists()

    LoginThrottle.objects.create(
        scope="account", key="old2@example.com", failures=2, last_failure_at=stale
    )
    tick.run_once("housekeeping-test", now=start + timedelta(minutes=30))
    assert LoginThrottle.objects.filter(key="old2@example.com").exists()
    tick.run_once("housekeeping-test", now=start + timedelta(hours=1, seconds=1))
    assert not LoginThrottle.objects.filter(key="old2@example.com").exists()
