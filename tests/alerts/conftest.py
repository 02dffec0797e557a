"""Synthetic mention series for alert tests: mentions and topic links written in bulk, with
publication times chosen by the test (the detector only sees counts per 5 minutes)."""

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from tribu.listening.models import Mention, MentionTopic, Topic
from tribu.listening.services.dedupe import base_sort_key

# A fixed clock: a check at NOW decides on the steps that ended by 12:00 UTC.
NOW = datetime(2026, 3, 10, 12, 0, 40, tzinfo=UTC)
_unique = itertools.count(1)


@pytest.fixture
def topic(workspace):
    return Topic.objects.create(workspace=workspace, name="Maison Lumière", query="lumière")


def add_mentions(topic, times, sentiment="neutral", title="Maison Lumière", text="", author=""):
    """One mention of `topic` published at each of `times`."""
    mentions = []
    for moment in times:
        serial = next(_unique)
        mentions.append(
            Mention(
                workspace_id=topic.workspace_id,
                network="web",
                url=f"https://news{serial % 3}.example/{serial}",
                title=title,
                text=text or f"Un avis numéro {serial}",
                author_name=author,
                published_at=moment,
                sentiment=sentiment,
                # Unique like the real ones: the publication time, nudged per mention.
                sort_key=base_sort_key(moment) + serial % 997,
            )
        )
    _insert(Mention, mentions)
    ids = dict(
        Mention.objects.filter(sort_key__in=[m.sort_key for m in mentions]).values_list(
            "sort_key", "id"
        )
    )
    for mention in mentions:
        mention.pk = mention.id = ids[mention.sort_key]
    _insert(
        MentionTopic,
        [
            MentionTopic(
                mention_id=mention.pk, topic=topic, workspace_id=topic.workspace_id,
                published_at=mention.published_at, sort_key=mention.sort_key,
            )
            for mention in mentions
        ],
    )  # fmt: skip
    return mentions


def _insert(model, objects):
    """INSERT with executemany: bulk_create is slow on SQLite for wide rows (a batch per
    few dozen rows), and these tests write thousands."""
    if not objects:
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        # Table and column names come from the model, values are parameters.
        sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(sql, rows)


def steady_times(per_day, days, end, seed=1, daily_swing=0.6):
    """Publication times of a steady brand: Poisson counts per 5 minutes, busier by day
    (a sine over the UTC day, ±daily_swing) than by night."""
    import math

    rng = random.Random(seed)
    times = []
    start = end - timedelta(days=days)
    steps = days * 288
    for index in range(steps):
        moment = start + timedelta(minutes=5 * index)
        hour = moment.hour + moment.minute / 60
        rate = per_day / 288 * (1 + daily_swing * math.sin((hour - 8) / 24 * 2 * math.pi))
        # Poisson sampling by counting exponential gaps (rates stay small per step).
        count, total = 0, rng.expovariate(1.0)
        while total < rate:
            count += 1
            total += rng.expovariate(1.0)
        for _ in range(count):
            times.append(moment + timedelta(seconds=rng.uniform(0, 299)))
    return times


def spread(start, count, minutes=60):
    """`count` times evenly spread over `minutes` from `start`."""
    gap = timedelta(minutes=minutes) / count
    return [start + gap * index for index in range(count)]
