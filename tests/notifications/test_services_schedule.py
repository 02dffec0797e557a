import zoneinfo
from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tribu.notifications.services.schedule import (
    after_quiet_hours,
    email_due_at,
    in_quiet_hours,
    next_daily,
)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NIGHT = (time(22, 0), time(7, 0))


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


def test_quiet_hours_may_cross_midnight():
    assert in_quiet_hours(*NIGHT, time(23, 0))
    assert in_quiet_hours(*NIGHT, time(0, 0))
    assert in_quiet_hours(*NIGHT, time(6, 59))
    assert not in_quiet_hours(*NIGHT, time(7, 0))
    assert not in_quiet_hours(*NIGHT, time(21, 59))
    assert in_quiet_hours(time(12, 0), time(14, 0), time(13, 0))
    assert not in_quiet_hours(time(12, 0), time(14, 0), time(14, 0))
    assert not in_quiet_hours(None, None, time(3, 0))


def test_an_email_in_quiet_hours_waits_until_they_end():
    assert after_quiet_hours(paris(2025, 3, 3, 23, 30), *NIGHT, PARIS) == paris(2025, 3, 4, 7, 0)
    assert after_quiet_hours(paris(2025, 3, 4, 1, 0), *NIGHT, PARIS) == paris(2025, 3, 4, 7, 0)
    noon = paris(2025, 3, 4, 12, 0)
    assert after_quiet_hours(noon, *NIGHT, PARIS) == noon


def test_digests_are_due_at_the_next_hour_or_at_eight():
    at = paris(2025, 3, 4, 10, 5)
    assert email_due_at("hourly", None, None, "Europe/Paris", at) == paris(2025, 3, 4, 11, 0)
    assert email_due_at("daily", None, None, "Europe/Paris", at) == paris(2025, 3, 5, 8, 0)
    assert next_daily(paris(2025, 3, 4, 7, 0), PARIS) == paris(2025, 3, 4, 8, 0)
    assert email_due_at("immediate", None, None, "Europe/Paris", at) == at
    assert email_due_at("off", None, None, "Europe/Paris", at) is None


def test_a_daily_digest_inside_quiet_hours_waits_for_their_end():
    at = paris(2025, 3, 4, 10, 0)
    due = email_due_at("daily", time(6, 0), time(9, 30), "Europe/Paris", at)
    assert due == paris(2025, 3, 5, 9, 30)


def test_daylight_saving_time_keeps_local_times():
    # Paris moved to summer time on 2025-03-30 at 02:00.
    due = after_quiet_hours(paris(2025, 3, 29, 23, 0), *NIGHT, PARIS)
    assert due == paris(2025, 3, 30, 7, 0)
    assert due.astimezone(UTC).hour == 5


@given(
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),  # fmt: skip
    start=st.times(),
    length=st.integers(min_value=1, max_value=23 * 60),
)
def test_the_due_time_is_never_earlier_nor_inside_quiet_hours(moment, start, length):
    end = (datetime.combine(datetime(2000, 1, 1), start) + timedelta(minutes=length)).time()
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    due = after_quiet_hours(moment, start, end, PARIS)
    assert due >= moment
    assert due - moment <= timedelta(hours=25)
    assert not in_quiet_hours(start, end, due.astimezone(PARIS).time())
