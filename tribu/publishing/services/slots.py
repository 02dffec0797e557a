"""The publishing queue: "next free slot" on a channel's regular publishing times.

A QueueSlot is a local weekday and time ("Monday 9:00" in the workspace's zone). Each week it
gives one instant, computed on the wall clock like rituals (tribu.publishing.services.rituals:
9:00 stays 9:00 across daylight saving changes; a time in a spring-forward gap moves forward
by the gap; an ambiguous time is its first occurrence).

A slot is taken on a channel when something is planned there at exactly that instant: a
delivery of the channel due then (in any state but cancelled), or a post due then that is
still being prepared (draft, in review, approved or scheduled) with a variant on the channel.
The search looks at most twelve weeks ahead.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from tribu.publishing.models import Delivery, DeliveryState, Post, PostStatus, QueueSlot
from tribu.publishing.services.rituals import to_utc, wall_clock

SEARCH_WEEKS = 12
# Posts in these states hold their time on their channels even without a delivery yet.
PLANNED_STATUSES = (
    PostStatus.DRAFT,
    PostStatus.IN_REVIEW,
    PostStatus.APPROVED,
    PostStatus.SCHEDULED,
)


def _zone(tz, channels):
    if tz is None:
        return channels[0].workspace.tzinfo
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def slot_instants(slots, after, until, tz):
    """The aware UTC instants of `slots` ((weekday, time) pairs, 0 = Monday) in
    (after, until], sorted, each once."""
    by_weekday = {}
    for weekday, at_time in slots:
        by_weekday.setdefault(weekday, []).append(at_time)
    found = set()
    day = wall_clock(after, tz).date()
    # One local day of margin past the end: the zone's offset may put `until` on the next day.
    last = wall_clock(until, tz).date() + timedelta(days=1)
    while day <= last:
        for at_time in by_weekday.get(day.weekday(), ()):
            moment = to_utc(datetime.combine(day, at_time), tz)
            if after < moment <= until:
                found.add(moment)
        day += timedelta(days=1)
    return sorted(found)


def taken_instants(channels, start, end):
    """Instants in [start, end] at which something is planned on any of `channels`."""
    deliveries = (
        Delivery.objects.filter(channel__in=channels, due_at__gte=start, due_at__lte=end)
        .exclude(state=DeliveryState.CANCELLED)
        .values_list("due_at", flat=True)
    )
    posts = (
        Post.objects.filter(
            Q(variants__channel__in=channels),
            status__in=PLANNED_STATUSES,
            publish_at__gte=start,
            publish_at__lte=end,
        )
        .values_list("publish_at", flat=True)
        .distinct()
    )
    return set(deliveries) | set(posts)


def next_free_slots(channels, after, tz=None):
    """The first instant strictly after `after`, within twelve weeks, that is a queue slot of
    at least one of `channels` and at which none of them has anything planned (so one post
    can go to all of them then). None when no channel has a slot, or every slot is taken.
    `tz` defaults to the workspace's zone."""
    channels = list(channels)
    if not channels:
        return None
    slots = set(QueueSlot.objects.filter(channel__in=channels).values_list("weekday", "at_time"))
    if not slots:
        return None
    tz = _zone(tz, channels)
    candidates = slot_instants(slots, after, after + timedelta(weeks=SEARCH_WEEKS), tz)
    if not candidates:
        return None
    taken = taken_instants(channels, candidates[0], candidates[-1])
    return next((moment for moment in candidates if moment not in taken), None)


def next_free_slot(channel, *, after, tz=None):
    """The channel's first queue slot strictly after `after` with nothing planned on it
    (aware UTC), within twelve weeks; None when the channel has no slot or all are taken."""
    return next_free_slots([channel], after, tz)
