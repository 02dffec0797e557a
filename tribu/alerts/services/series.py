"""Count series of one topic's mentions, from its links (MentionTopic).

Why the links and not insights' VolumeBucket: the detector works on 5-minute steps and the
buckets are hourly. A link carries its mention's sort_key (microseconds since the epoch of
the publication time), so one GROUP BY over `sort_key // step` on the (topic, -sort_key)
index counts a topic's steps without touching the mentions; only the negative count joins
them, for their sentiment.
"""

from datetime import UTC, datetime, timedelta

from django.db.models import BigIntegerField, Count, F, Q, Value

from tribu.listening.models import MentionTopic

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
HOUR = timedelta(hours=1)


def micros(moment):
    return (moment - EPOCH) // timedelta(microseconds=1)


def step_floor(moment, step=STEP):
    """The start of the step holding `moment` (steps are aligned on the epoch, in UTC)."""
    size = step // timedelta(microseconds=1)
    return EPOCH + timedelta(microseconds=micros(moment) // size * size)


def counts(topic_id, start, end, step=STEP, negative=True):
    """(volumes, negatives): per-step counts of the topic's mentions published in
    [start, end), both lists of (end - start) / step integers. `start` and `end` must lie on
    step boundaries. negatives is None when `negative` is False (no join then)."""
    size = step // timedelta(microseconds=1)
    first, last = micros(start) // size, micros(end) // size
    links = MentionTopic.objects.filter(
        topic_id=topic_id, sort_key__gte=first * size, sort_key__lt=last * size
    )
    aggregates = {"volume": Count("id")}
    if negative:
        aggregates["negative"] = Count("id", filter=Q(mention__sentiment="negative"))
    # Integer division on both databases (bigint / integer truncates on PostgreSQL too).
    rows = (
        links.annotate(step=F("sort_key") / Value(size, output_field=BigIntegerField()))
        .values("step")
        .annotate(**aggregates)
        .order_by()
    )
    volumes = [0] * (last - first)
    negatives = [0] * (last - first) if negative else None
    for row in rows:
        index = row["step"] - first
        if 0 <= index < len(volumes):
            volumes[index] = row["volume"]
            if negative:
                negatives[index] = row["negative"]
    return volumes, negatives
