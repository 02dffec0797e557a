"""When a user's next email is due: immediately, at the next hour, or at 08:00 local time,
and never inside their quiet hours (held until the quiet hours end).

Quiet hours are local wall-clock times in the workspace's time zone; a start later than the
end crosses midnight (22:00 → 07:00). Equal or missing times mean no quiet hours.
"""

from datetime import UTC, datetime, time, timedelta

from tribu.core.tick import workspace_tz

DAILY_AT = time(8, 0)


def in_quiet_hours(start, end, moment_time):
    """True when the local time `moment_time` falls in [start, end)."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= moment_time < end
    return moment_time >= start or moment_time < end


def _local(day, at, tz):
    return datetime.combine(day, at, tzinfo=tz)


def after_quiet_hours(moment, start, end, tz):
    """`moment` itself when it is outside the quiet hours, else when they end (UTC)."""
    local = moment.astimezone(tz)
    if not in_quiet_hours(start, end, local.time()):
        return moment
    candidate = _local(local.date(), end, tz)
    if candidate <= local:
        candidate = _local(local.date() + timedelta(days=1), end, tz)
    return candidate.astimezone(UTC)


def next_daily(moment, tz):
    local = moment.astimezone(tz)
    candidate = _local(local.date(), DAILY_AT, tz)
    if candidate <= local:
        candidate = _local(local.date() + timedelta(days=1), DAILY_AT, tz)
    return candidate.astimezone(UTC)


def next_hour(moment):
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def email_due_at(mode, quiet_start, quiet_end, timezone_name, now):
    """When an email for a notification created at `now` should go, or None for no email."""
    from tribu.notifications.models import NotificationPreference as Pref

    tz = workspace_tz(timezone_name)
    if mode == Pref.Email.OFF:
        return None
    if mode == Pref.Email.HOURLY:
        due = next_hour(now)
    elif mode == Pref.Email.DAILY:
        due = next_daily(now, tz)
    else:
        due = now
    return after_quiet_hours(due, quiet_start, quiet_end, tz)
