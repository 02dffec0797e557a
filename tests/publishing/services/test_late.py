from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from tribu.publishing.services.late import is_too_late, lateness

DUE = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def test_exactly_the_limit_still_publishes():
    assert not is_too_late(DUE, DUE + timedelta(minutes=30), 30)
    assert is_too_late(DUE, DUE + timedelta(minutes=30, microseconds=1), 30)
    # A limit of zero: only a post that is not late at all goes out.
    assert not is_too_late(DUE, DUE, 0)
    assert is_too_late(DUE, DUE + timedelta(seconds=1), 0)


def test_a_post_not_yet_due_is_never_late():
    assert lateness(DUE, DUE - timedelta(hours=1)) == timedelta(0)
    assert not is_too_late(DUE, DUE - timedelta(hours=1), 0)
    assert lateness(DUE, DUE + timedelta(minutes=45)) == timedelta(minutes=45)


@given(due=moments, now=moments, limit=st.integers(0, 60 * 24 * 30))
def test_too_late_exactly_when_now_minus_due_exceeds_the_limit(due, now, limit):
    assert is_too_late(due, now, limit) == (now - due > timedelta(minutes=limit))
    assert lateness(due, now) == max(now - due, timedelta(0))


@given(
    due=moments,
    limit=st.integers(0, 60 * 24),
    extra=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=2)),
)
def test_the_boundary_from_both_sides(due, limit, extra):
    at_limit = due + timedelta(minutes=limit)
    assert not is_too_late(due, at_limit, limit)
    assert not is_too_late(due, at_limit - extra, limit)
    assert is_too_late(due, at_limit + extra, limit)


@given(due=moments, now=moments, limit=st.integers(0, 60 * 24 * 30))
def test_other_time_zones_give_the_same_answer(due, now, limit):
    paris = ZoneInfo("Europe/Paris")
    assert is_too_late(due.astimezone(paris), now, limit) == is_too_late(due, now, limit)
