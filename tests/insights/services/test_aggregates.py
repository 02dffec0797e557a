"""tribu.insights.services.aggregates: counts maintained at ingestion equal the mentions."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from tribu.insights.models import WORKSPACE_SCOPE, AuthorDay, SourceDay, TermDay, VolumeBucket
from tribu.insights.services import aggregates
from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention, Source, Topic
from tribu.listening.services import topics
from tribu.listening.services.ingest import ingest, ingest_items

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NEGATIVE = "Service client catastrophique, livraison en retard, je suis vraiment très déçu."
POSITIVE = "Merci pour cette superbe livraison, équipe adorable, je recommande vivement !"


def item(n, body, **fields):
    values = {
        "url": f"https://blog.example/post-{n}",
        "title": "",
        "text": f"Tribu {body} ({n})",
        "author_handle": "@jeanne" if n % 2 else "@paul",
        "published_at": T0 + timedelta(minutes=20 * n),
        "network": "mastodon",
        "engagement": {"likes": n, "reposts": 1},
    }
    values.update(fields)
    return ParsedItem(**values)


@pytest.fixture
def source(workspace):
    return Source.objects.create(workspace=workspace, kind="feed", url="https://blog.example/feed")


@pytest.fixture
def topic(workspace):
    return topics.create_topic(workspace, name="Marque", query="tribu")


def volume(workspace, scope, **filters):
    rows = VolumeBucket.objects.filter(workspace=workspace, topic_key=scope, **filters)
    return rows.aggregate(total=Sum("count"))["total"] or 0


def expected_volume(workspace):
    """Counts recomputed from the mentions themselves: (hour, network, sentiment) -> n."""
    return Counter(
        (aggregates.hour_of(m.published_at), m.network, m.sentiment)
        for m in Mention.objects.filter(workspace=workspace)
    )


def stored_volume(workspace, scope):
    return Counter(
        {
            (row.hour, row.network, row.sentiment): row.count
            for row in VolumeBucket.objects.filter(workspace=workspace, topic_key=scope)
            if row.count
        }
    )


def test_ingestion_counts_every_mention_in_its_scopes(workspace, source, topic):
    items = [item(n, NEGATIVE if n % 3 else POSITIVE) for n in range(12)]
    items.append(item(99, "", text="Un autre sujet sans rapport, ici."))
    ingest(source, items)
    assert stored_volume(workspace, WORKSPACE_SCOPE) == expected_volume(workspace)
    assert volume(workspace, WORKSPACE_SCOPE) == 13
    assert volume(workspace, topic.pk) == 12  # the unrelated mention is not in the topic
    assert volume(workspace, topic.pk, sentiment="negative") == 8
    assert volume(workspace, topic.pk, sentiment="positive") == 4
    # Twelve mentions, 20 minutes apart from 9:00: hours 9, 10, 11, 12 get 3 each.
    by_hour = aggregates.hourly_volume(workspace.pk, topic.pk, T0, T0 + timedelta(hours=4))
    assert sorted(by_hour.values()) == [3, 3, 3, 3]
    sources = SourceDay.objects.get(workspace=workspace, topic_key=topic.pk)
    assert (sources.source_key, sources.count, sources.day) == (source.pk, 12, T0.date())


def test_authors_are_counted_with_engagement_and_tone(workspace, source, topic):
    ingest(source, [item(n, NEGATIVE) for n in range(1, 5)])
    jeanne = workspace.authors.get(key="jeanne")
    row = AuthorDay.objects.get(workspace=workspace, topic_key=topic.pk, author_key=jeanne.pk)
    # Jeanne wrote posts 1 and 3: likes 1 + 3, one repost each.
    assert (row.count, row.engagement, row.negative, row.positive) == (2, 6, 2, 0)


def test_terms_count_mentions_not_occurrences(workspace, source, topic):
    ingest(source, [item(n, "livraison livraison #Retard") for n in range(5)])
    counts = dict(
        TermDay.objects.filter(workspace=workspace, topic_key=topic.pk).values_list("term", "count")
    )
    assert counts["livraison"] == 5 and counts["#retard"] == 5


def test_duplicates_are_not_counted_twice(workspace, source, topic):
    ingest(source, [item(1, NEGATIVE)])
    ingest(source, [item(1, NEGATIVE)])
    assert volume(workspace, WORKSPACE_SCOPE) == 1


def test_rematch_rebuilds_the_topic_and_delete_removes_it(
    workspace, source, django_capture_on_commit_callbacks
):
    ingest(source, [item(n, NEGATIVE) for n in range(6)])
    # huey runs immediately in tests: the re-match runs on commit and rebuilds the topic.
    with django_capture_on_commit_callbacks(execute=True):
        topic = topics.create_topic(workspace, name="Livraison", query="livraison")
    assert volume(workspace, topic.pk) == 6
    with django_capture_on_commit_callbacks(execute=True):
        topics.update_topic(topic, query="livraison AND @jeanne")
    assert volume(workspace, topic.pk) == 3
    topics.delete_topic(Topic.objects.get(pk=topic.pk))
    for model in (VolumeBucket, SourceDay, AuthorDay, TermDay):
        assert not model.objects.filter(topic_key=topic.pk).exists()


def test_a_changed_sentiment_moves_its_counts(workspace, source, topic):
    ingest(source, [item(1, NEGATIVE)])
    mention = Mention.objects.get()
    assert mention.sentiment == "negative"
    mention.sentiment = "positive"
    mention.save()
    aggregates.move_sentiment([(mention, "negative")])
    assert volume(workspace, topic.pk, sentiment="negative") == 0
    assert volume(workspace, topic.pk, sentiment="positive") == 1
    assert stored_volume(workspace, WORKSPACE_SCOPE) == expected_volume(workspace)
    author = AuthorDay.objects.get(topic_key=topic.pk)
    assert (author.count, author.negative, author.positive, author.engagement) == (1, 0, 1, 2)


def test_rebuild_workspace_reproduces_the_incremental_counts(workspace, source, topic):
    ingest(source, [item(n, NEGATIVE if n % 2 else POSITIVE) for n in range(20)])
    ingest_items(workspace.pk, [item(50, POSITIVE, url="https://other.example/x")])

    def snapshot():
        return {
            model.__name__: sorted(
                tuple(row) for row in model.objects.values_list(*KEYS[model]) if row[-1]
            )
            for model in KEYS
        }

    before = snapshot()
    aggregates.rebuild_workspace(workspace.pk)
    assert snapshot() == before


KEYS = {
    VolumeBucket: ("topic_key", "hour", "network", "sentiment", "count"),
    SourceDay: ("topic_key", "day", "source_key", "count"),
    AuthorDay: ("topic_key", "day", "author_key", "engagement", "negative", "count"),
    TermDay: ("topic_key", "day", "term", "count"),
}


def test_prune_terms_keeps_small_days_whole(workspace, source):
    ingest(source, [item(n, f"mot{n}unique livraison") for n in range(8)])
    later = T0 + timedelta(days=3)
    assert aggregates.prune_terms(later, keep_whole=100) == 0
    before = TermDay.objects.count()
    removed = aggregates.prune_terms(later, keep_whole=3)
    assert removed > 0 and TermDay.objects.count() == before - removed
    # Terms used by more than one mention survive.
    assert TermDay.objects.filter(term="livraison", topic_key=WORKSPACE_SCOPE).get().count == 8
    # Days still filling (the last two) are never pruned.
    assert aggregates.prune_terms(T0 + timedelta(days=1), keep_whole=3) == 0
