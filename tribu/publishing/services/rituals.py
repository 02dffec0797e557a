"""Rituals: recurring posts ("every Tuesday at 9:00") and the posts that fill them.

A ritual's rule is an RFC 5545 RRULE value read on LOCAL wall-clock times: the series starts
at the naive local `starts_on` + `at_time`, dateutil iterates it without any time zone, and
each result is placed in the workspace's zone only at the end. So a 9:00 ritual stays at 9:00
local time across daylight saving changes, while its UTC time moves by an hour.

Local times that a zone change makes odd follow RFC 5545 (section 3.3.5), which is also what
calendar applications do:

- a time that does not exist (the spring-forward gap, e.g. 02:30 on the last Sunday of March
  in Europe/Paris) is read with the offset in force before the gap, so it moves forward by
  the length of the gap: 02:30 becomes 03:30 summer time (01:30 UTC) that day, neither
  dropped nor doubled (Pacific/Chatham: 02:50 becomes 03:50; Australia/Lord_Howe, whose
  gap lasts 30 minutes: 02:10 becomes 02:40);
- a time that happens twice (the autumn fold) is its first occurrence (fold=0), and only once.

Occurrences are posts: `materialize` creates a draft post (one variant per channel of the
ritual) for each coming occurrence that has none, and the unique constraint
one_post_per_ritual_occurrence makes it idempotent even when two workers run it at once.
Whether a post needs approval is decided elsewhere: materialized posts stay drafts.
"""

import logging
import re
from datetime import MAXYEAR, UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as dateutil_rrule
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.publishing.models import Post, PostStatus, PostVariant, Ritual

logger = logging.getLogger(__name__)

MAX_RULE_LENGTH = 500
# The Gregorian calendar repeats itself every 400 years, weekdays included (146,097 days are
# exactly 20,871 weeks): a series moved by 400 years has the same days, moved by 400 years.
CALENDAR_CYCLE_YEARS = 400
# How far ahead the tick materializes rituals into draft posts.
MATERIALIZE_HORIZON = timedelta(days=56)

# A ritual happens at most once a day; its time comes from `at_time`, not from the rule.
TOO_FREQUENT = {"SECONDLY", "MINUTELY", "HOURLY"}
TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")


# Rules ---------------------------------------------------------------------------------


def _invalid(rule):
    return ValidationError(
        _(
            "“%(rule)s” is not a recurrence rule Tribu can read. Write NAME=VALUE parts "
            "separated by semicolons, for example FREQ=WEEKLY;BYDAY=TU (every Tuesday) or "
            "FREQ=MONTHLY;BYDAY=1MO (the first Monday of each month)."
        ),
        code="invalid_rule",
        params={"rule": rule},
    )


def _parts(rule):
    """The rule's NAME=VALUE parts, upper-cased, in order; refuses what we never accept."""
    text = (rule or "").strip()
    if not text:
        raise ValidationError(
            _("The recurrence rule is empty. Write one such as FREQ=WEEKLY;BYDAY=TU."),
            code="empty_rule",
        )
    if len(text) > MAX_RULE_LENGTH:
        raise ValidationError(
            _(
                "The recurrence rule is too long (at most %(max)s characters). A ritual needs "
                "a short rule such as FREQ=WEEKLY;BYDAY=TU."
            ),
            code="rule_too_long",
            params={"max": MAX_RULE_LENGTH},
        )
    text = text.upper()
    if "DTSTART" in text:
        raise ValidationError(
            _(
                "Leave DTSTART out of the rule: the first day and the time of the ritual have "
                "their own fields. Write only the rule, for example FREQ=WEEKLY;BYDAY=TU."
            ),
            code="dtstart_in_rule",
        )
    text = text.removeprefix("RRULE:")
    parts = {}
    for part in text.split(";"):
        name, sep, value = part.strip().partition("=")
        if not sep or not name or not value or name in parts or not _plain(name + value):
            raise _invalid(rule)
        parts[name] = value
    return parts


def _plain(text):
    # Letters, digits, signs and commas only: no second line (EXDATE, RDATE…), no quotes.
    return all(char.isascii() and (char.isalnum() or char in "+-,") for char in text)


def _until(value, tz):
    """UNTIL as a naive local datetime. A date alone includes that whole local day; a UTC
    time (…Z) is converted to the workspace's wall clock, the frame the series runs in."""
    match = _UNTIL.match(value)
    if not match:
        raise ValueError(value)
    day, clock, utc = match.groups()
    if clock is None:
        return datetime.combine(datetime.strptime(day, "%Y%m%d").date(), time.max)
    moment = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
    if utc:
        moment = moment.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    return moment


def _build(rule, dtstart, tz, shift_years=0):
    """A dateutil rrule on naive local times. `shift_years` (a multiple of 400) moves the
    whole series, UNTIL included, to the same days of a later cycle."""
    parts = _parts(rule)
    freq = parts.get("FREQ")
    if freq in TOO_FREQUENT:
        raise ValidationError(
            _(
                "A ritual happens at most once a day, so FREQ=%(freq)s is not allowed. Use "
                "DAILY, WEEKLY, MONTHLY or YEARLY, for example FREQ=WEEKLY;BYDAY=TU."
            ),
            code="rule_too_frequent",
            params={"freq": freq},
        )
    for name in TIME_PARTS:
        if name in parts:
            raise ValidationError(
                _(
                    "Remove %(part)s from the rule: a ritual happens once on each of its days, "
                    "at the time set in its own field. For example: FREQ=WEEKLY;BYDAY=TU."
                ),
                code="time_in_rule",
                params={"part": name},
            )
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or int(interval) < 1:
        raise ValidationError(
            _(
                "INTERVAL must be a whole number of 1 or more, as in "
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO (every other Monday)."
            ),
            code="invalid_interval",
        )
    try:
        until = _until(parts.pop("UNTIL"), tz) if "UNTIL" in parts else None
        if until is not None and shift_years:
            # An UNTIL moved past the year 9999 limits nothing the search reaches.
            moved = until.year + shift_years
            until = until.replace(year=moved) if moved <= MAXYEAR else None
        dtstart = dtstart.replace(year=dtstart.year + shift_years)
        text = ";".join(f"{name}={value}" for name, value in parts.items())
        if until is not None:
            text += f";UNTIL={until:%Y%m%dT%H%M%S}"
        return dateutil_rrule.rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        raise _invalid(rule) from error


def validate_rule(rule, *, starts_on=None, at_time=None, tz=None):
    """Check a ritual's RRULE value and return it normalised (upper case, no "RRULE:").

    Raises ValidationError (translated, with an example) for a rule dateutil cannot read, a
    rule with DTSTART, BYHOUR/BYMINUTE/BYSECOND or a FREQ finer than daily (a ritual is at
    most daily), and a rule that never happens from its first day on (today when
    `starts_on` is not given)."""
    tz = _zone(tz)
    dtstart = datetime.combine(starts_on or timezone.localdate(timezone=tz), at_time or time(9))
    if not _has_occurrence(rule, dtstart, tz):
        raise ValidationError(
            _(
                "This rule never happens. Check BYMONTH, BYMONTHDAY, BYSETPOS, COUNT and "
                "UNTIL (and the first day); for example FREQ=MONTHLY;BYMONTHDAY=15 is the "
                "15th of each month."
            ),
            code="rule_without_occurrence",
        )
    return ";".join(f"{name}={value}" for name, value in _parts(rule).items())


def _has_occurrence(rule, dtstart, tz):
    """Whether the series has at least one occurrence. dateutil checks UNTIL only against
    matching days, so on a rule that matches none ("the 30th of February") it walks day by
    day to the year 9999: seconds of CPU. The same series moved to the last 400-year cycle
    before 9999 has an occurrence exactly when the original has one in its first ~370
    years, and dateutil gives up after a few hundred years at most."""
    cycles = (MAXYEAR - 11 - dtstart.year) // CALENDAR_CYCLE_YEARS
    series = _build(rule, dtstart, tz, shift_years=cycles * CALENDAR_CYCLE_YEARS)
    return next(iter(series), None) is not None


# Occurrences ---------------------------------------------------------------------------


def _zone(tz):
    if tz is None:
        return ZoneInfo("UTC")
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def to_utc(local, tz):
    """A naive local wall-clock time as an aware UTC datetime. zoneinfo reads fold=0 the way
    RFC 5545 asks: the first of two ambiguous instants, and a time inside a gap with the
    offset before the gap (so it lands the length of the gap later on the wall clock)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def wall_clock(moment, tz):
    """An aware datetime as a naive local time in `tz` (how `Ritual.skipped` stores it)."""
    return moment.astimezone(tz).replace(tzinfo=None)


def _skipped(ritual, tz):
    """The ritual's skipped occurrences as naive local datetimes (bad entries ignored)."""
    result = set()
    for value in ritual.skipped or []:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            continue
        result.add(wall_clock(moment, tz) if moment.tzinfo else moment)
    return result


def occurrences(ritual, start, end, tz=None):
    """Aware UTC datetimes of the ritual's occurrences in [start, end), sorted, each once,
    without the skipped ones. `tz` defaults to the workspace's zone."""
    tz = _zone(tz if tz is not None else ritual.workspace.tzinfo)
    # The UTC window seen on the local clock, with a day of margin for the zone's offsets.
    low = wall_clock(start, tz) - timedelta(days=1)
    high = wall_clock(end, tz) + timedelta(days=1)
    dtstart = datetime.combine(ritual.starts_on, ritual.at_time.replace(tzinfo=None))
    series = _build(ritual.rule, dtstart, tz)
    skipped = _skipped(ritual, tz)
    found = set()
    for local in series.between(low, high, inc=True):
        moment = to_utc(local, tz)
        # A skip names either the rule's local time or the wall-clock time it landed on
        # (they differ only inside a spring-forward gap).
        if start <= moment < end and not {local, wall_clock(moment, tz)} & skipped:
            found.add(moment)
    # Each instant once, in order, whatever a gap did to the local times.
    return sorted(found)


# Posts ---------------------------------------------------------------------------------


def _create_post(ritual, occurrence_at, channels):
    """The draft post for one occurrence, or None if another call created it first."""
    try:
        # A savepoint: after an IntegrityError the caller's transaction stays usable.
        with transaction.atomic():
            post = Post.objects.create(
                workspace_id=ritual.workspace_id,
                title=ritual.name[: Post._meta.get_field("title").max_length],
                text=ritual.template,
                status=PostStatus.DRAFT,
                publish_at=occurrence_at,
                ritual=ritual,
                occurrence_at=occurrence_at,
                created_by_id=ritual.created_by_id,
            )
            PostVariant.objects.bulk_create(
                [PostVariant(post=post, channel=channel) for channel in channels]
            )
    except IntegrityError:
        return None
    return post


def materialize(ritual, until, *, now=None):
    """Create a draft post for each occurrence in [now, until) that has none yet; return the
    created posts. Idempotent, and safe when two workers run it at the same time."""
    if not ritual.active:
        return []
    now = now or timezone.now()
    if until <= now:
        return []
    due = occurrences(ritual, now, until, ritual.workspace.tzinfo)
    if not due:
        return []
    existing = set(
        Post.objects.filter(ritual=ritual, occurrence_at__in=due).values_list(
            "occurrence_at", flat=True
        )
    )
    missing = [moment for moment in due if moment not in existing]
    if not missing:
        return []
    channels = list(ritual.channels.filter(workspace_id=ritual.workspace_id))
    created = []
    for moment in missing:
        post = _create_post(ritual, moment, channels)
        if post is not None:
            created.append(post)
    return created


def materialize_due(now, horizon=MATERIALIZE_HORIZON):
    """Materialize every active ritual up to now + horizon; return how many posts were
    created. A ritual whose stored rule no longer reads is logged and left for the others."""
    count = 0
    rituals = Ritual.objects.filter(active=True).select_related("workspace").order_by("id")
    for ritual in rituals:
        try:
            count += len(materialize(ritual, now + horizon, now=now))
        except ValidationError:
            logger.warning("ritual %s has a rule that cannot be read: %r", ritual.pk, ritual.rule)
    return count


def _untouched(post, ritual):
    """Whether nobody worked on this ritual post: still a draft with the template's text,
    nothing of its own on any channel and no image."""
    if post.status != PostStatus.DRAFT or post.text != ritual.template:
        return False
    if post.thread or post.first_comment or post.media.exists():
        return False
    # A variant's own content is anything not NULL (an empty string is an edit too).
    own_content = Q(text__isnull=False) | Q(thread__isnull=False) | Q(first_comment__isnull=False)
    return not post.variants.filter(own_content).exists()


def skip(ritual, occurrence_at):
    """Leave one occurrence out of the series (recorded as its local time in
    `Ritual.skipped`). Its post is deleted when nobody worked on it yet; an edited post is
    kept and returned, so the caller can tell the team it still exists. Returns None
    otherwise."""
    tz = ritual.workspace.tzinfo
    local = wall_clock(occurrence_at, tz) if occurrence_at.tzinfo else occurrence_at
    moment = to_utc(local, tz)
    with transaction.atomic():
        # Locked so two skips at once do not lose one (SQLite serialises writers anyway).
        locked = Ritual.objects.select_for_update().get(pk=ritual.pk)
        skipped = list(locked.skipped or [])
        if local not in _skipped(locked, tz):
            skipped.append(local.isoformat())
            Ritual.objects.filter(pk=ritual.pk).update(skipped=skipped)
        ritual.skipped = skipped
        kept = None
        for post in Post.objects.filter(ritual=ritual, occurrence_at=moment):
            if _untouched(post, ritual):
                post.delete()
            else:
                kept = post
    return kept


def resync(ritual, before, now, *, horizon=None):
    """After an edit, bring the ritual's future drafts that nobody touched in line with it:
    gone from the series (or the ritual made inactive) → deleted; still in it → the new
    template and channels. Drafts someone edited or moved are left alone.

    `before` is the ritual as it was (its template tells untouched drafts apart)."""
    horizon = horizon or MATERIALIZE_HORIZON
    try:
        keep = set(occurrences(ritual, now, now + horizon)) if ritual.active else set()
    except ValidationError:  # the form validated the rule; never expected here
        keep = set()
    channels = list(ritual.channels.all())
    future = Post.objects.filter(ritual=ritual, occurrence_at__gte=now)
    for post in future:
        if post.publish_at != post.occurrence_at or not _untouched(post, before):
            continue
        if post.occurrence_at not in keep:
            post.delete()
            continue
        # The title follows the ritual's name unless someone gave the post its own.
        title = ritual.name[:200] if post.title == before.name[:200] else post.title
        Post.objects.filter(pk=post.pk).update(text=ritual.template, title=title, updated_at=now)
        post.variants.exclude(channel__in=channels).delete()
        present = set(post.variants.values_list("channel_id", flat=True))
        PostVariant.objects.bulk_create(
            [PostVariant(post=post, channel=c) for c in channels if c.pk not in present]
        )
