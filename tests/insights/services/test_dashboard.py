"""tribu.insights.services.dashboard: every number equals what the mentions say."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from tribu.insights import terms
from tribu.insights.models import WORKSPACE_SCOPE
from tribu.insights.services import dashboard
from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention, MentionTopic, Source, Topic
from tribu.listening.services import topics
from tribu.listening.services.ingest import ingest, ingest_items

# 10:00 in Paris (UTC+1 in winter): the period's days are Paris days.
NOW = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
NEGATIVE = "Service client catastrophique, livraison en retard, je suis vraiment très déçu."
POSITIVE = "Merci pour cette superbe livraison, équipe adorable, je recommande vivement !"


def item(n, body, *, hours_ago, **fields):
    values = {
        "url": f"https://blog.example/post-{n}",
        "text": body,
        "author_handle": ["@jeanne", "@paul", "@zoe"][n % 3],
        "published_at": NOW - timedelta(hours=hours_ago),
        "network": "mastodon" if n % 2 else "bluesky",
        "engagement": {"likes": n},
    }
    values.update(fields)
    return ParsedItem(**values)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rankings are cached per workspace id, which a rolled-back test may reuse."""
    cache.clear()


@pytest.fixture
def seeded(workspace):
    brand = topics.create_topic(workspace, name="Tribu", query="tribu")
    rival = topics.create_topic(
        workspace, name="Rival", query="rival", kind=Topic.Kind.COMPETITOR, colour="#b91c1c"
    )
    feed = Source.objects.create(workspace=workspace, name="Blog", url="https://blog.example/f")
    other = Source.objects.create(workspace=workspace, name="News", url="https://news.example/f")
    ingest(
        feed,
        [
            item(1, f"Tribu #lancement {NEGATIVE} https://www.tribu.example/offre", hours_ago=1),
            item(2, f"Tribu #lancement {POSITIVE}", hours_ago=3),
            item(3, f"Tribu {POSITIVE} @rivalhq", hours_ago=9),  # 00:00 Paris: today
            item(4, f"Rival {NEGATIVE}", hours_ago=10),  # 23:00 Paris yesterday
        ],
        now=NOW,
    )
    ingest(
        other,
        [
            item(5, f"Rival #lancement {POSITIVE}", hours_ago=30),
            item(6, "Rival et Tribu, deux marques", hours_ago=50),
            item(7, "Tribu, il y a longtemps", hours_ago=24 * 40),  # outside 30 days
        ],
        now=NOW,
    )
    ingest_items(workspace.pk, [item(8, "Tribu sans source, in English please", hours_ago=2)])
    return {"brand": brand, "rival": rival, "feed": feed, "other": other}


def in_period(workspace, period, topic=None):
    mentions = Mention.objects.filter(
        workspace=workspace, published_at__gte=period.since, published_at__lt=period.until
    )
    if topic is not None:
        mentions = mentions.filter(topic_links__topic=topic)
    return list(mentions)


def test_a_period_is_local_days_ending_today(workspace):
    period = dashboard.period_for(workspace, 7, now=NOW)
    assert (period.first_day, period.last_day) == (date(2025, 2, 27), date(2025, 3, 5))
    assert period.since == datetime(2025, 2, 26, 23, 0, tzinfo=UTC)  # Paris midnight
    assert period.hourly
    previous = period.previous()
    assert (previous.first_day, previous.last_day) == (date(2025, 2, 20), date(2025, 2, 26))
    assert previous.until == period.since
    assert not dashboard.period_for(workspace, 30, now=NOW).hourly
    assert dashboard.parse_days("90") == 90
    assert dashboard.parse_days("12") == dashboard.parse_days("x") == 30


@pytest.mark.parametrize("topic_name", [None, "brand", "rival"])
def test_volume_sentiment_and_networks_equal_the_mentions(workspace, seeded, topic_name):
    topic = seeded[topic_name] if topic_name else None
    period = dashboard.period_for(workspace, 30, now=NOW)
    volume = dashboard.volume(workspace, dashboard.scope_key(topic), period)
    mentions = in_period(workspace, period, topic)
    assert volume.total == len(mentions) > 0
    assert volume.by_sentiment == Counter(m.sentiment for m in mentions)
    assert volume.by_network == Counter(m.network for m in mentions)
    # Daily buckets are Paris days.
    tz = workspace.tzinfo
    per_day = Counter(timezone.localtime(m.published_at, tz).strftime("%d/%m") for m in mentions)
    assert {b.label: b.total for b in volume.buckets if b.total} == per_day
    assert len(volume.buckets) == 30


def test_hourly_buckets_for_seven_days(workspace, seeded):
    period = dashboard.period_for(workspace, 7, now=NOW)
    volume = dashboard.volume(workspace, WORKSPACE_SCOPE, period)
    assert len(volume.buckets) == 6 * 24 + 11  # Paris midnight to 10:00, the current hour
    by_hour = {b.start: b.total for b in volume.buckets if b.total}
    expected = Counter(
        m.published_at.replace(minute=0, second=0, microsecond=0)
        for m in in_period(workspace, period)
    )
    assert by_hour == expected


def test_top_sources_and_authors(workspace, seeded):
    period = dashboard.period_for(workspace, 30, now=NOW)
    mentions = in_period(workspace, period)
    sources = dashboard.top_sources(workspace, WORKSPACE_SCOPE, period)
    assert {(row.key, row.count) for row in sources} == set(
        Counter(m.source_id or 0 for m in mentions).items()
    )
    assert sources[0].name == "Blog"
    assert sources[0].count == 4
    assert [row.name for row in sources if row.key == 0] == [""]
    authors = dashboard.top_authors(workspace, WORKSPACE_SCOPE, period)
    assert {(row.key, row.count) for row in authors} == set(
        Counter(m.author_id for m in mentions).items()
    )
    counts = [row.count for row in authors]
    assert counts == sorted(counts, reverse=True)
    jeanne = next(row for row in authors if row.obj.handle == "@jeanne")
    assert jeanne.engagement == sum(
        m.engagement["likes"] for m in mentions if m.author_id == jeanne.key
    )


def test_top_terms_by_kind_count_mentions(workspace, seeded):
    period = dashboard.period_for(workspace, 30, now=NOW)
    mentions = in_period(workspace, period)
    top = dashboard.top_terms(workspace, WORKSPACE_SCOPE, period, limit=100)
    used = Counter(term for m in mentions for term in terms.extract(m.title, m.text))
    for kind, rows in top.items():
        assert all(terms.kind_of(term) == kind for term, _count in rows)
        assert {term: count for term, count in rows} == {
            term: count for term, count in used.items() if terms.kind_of(term) == kind
        }
    assert ("#lancement", 3) in top["hashtag"]
    assert ("@rivalhq", 1) in top["handle"]
    assert ("tribu.example/offre", 1) in top["link"]
    assert top["word"][:2] == [("livraison", 5), ("tribu", 5)]  # ties: alphabetical
    assert len(dashboard.top_terms(workspace, WORKSPACE_SCOPE, period, limit=2)["word"]) == 2


def test_share_of_voice(workspace, seeded):
    period = dashboard.period_for(workspace, 30, now=NOW)
    sov = dashboard.share_of_voice(workspace, period)
    brand, rival = seeded["brand"], seeded["rival"]
    assert [t.name for t in sov.topics] == ["Tribu", "Rival"]  # brand first
    links = MentionTopic.objects.filter(published_at__gte=period.since)
    assert sov.totals == Counter(links.values_list("topic_id", flat=True))
    assert sov.share(brand.pk) + sov.share(rival.pk) == pytest.approx(100)
    assert sov.share(brand.pk) == pytest.approx(100 * 5 / 8)
    negative = Counter(
        link.topic_id
        for link in links.select_related("mention")
        if link.mention.sentiment == "negative"
    )
    assert sov.by_sentiment.get("negative", Counter()) == negative
    for index in range(len(sov.days)):
        day = [sov.daily_shares()[t.pk][index] for t in sov.topics]
        assert sum(day) == pytest.approx(100, abs=0.2) or sum(day) == 0


def test_no_share_of_voice_without_a_competitor(workspace, seeded):
    Topic.objects.filter(kind=Topic.Kind.COMPETITOR).update(kind=Topic.Kind.SECTOR)
    assert dashboard.share_of_voice(workspace, dashboard.period_for(workspace, 7, now=NOW)) is None


def test_another_workspace_counts_nothing(workspace, seeded, make_workspace):
    other = make_workspace()
    period = dashboard.period_for(other, 30, now=NOW)
    assert dashboard.volume(other, WORKSPACE_SCOPE, period).total == 0
    assert dashboard.top_authors(other, WORKSPACE_SCOPE, period) == []
    assert dashboard.top_terms(other, WORKSPACE_SCOPE, period)["word"] == []
