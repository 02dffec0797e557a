"""The listening demo: topics, paused sources and two months of generated mentions."""

from datetime import timedelta

from django.utils import timezone

from tribu.core.models import Workspace
from tribu.core.services.demo import ensure_demo
from tribu.listening.models import Mention, MentionCopy, MentionTopic, Source, Topic
from tribu.listening.services import demo


def test_the_demo_populates_listening_once(db, settings, tmp_path):
    # One test rather than several: generating the demo takes a few seconds.
    settings.DATA_DIR = tmp_path
    ensure_demo()
    workspace = Workspace.objects.get(slug="demo")
    check_the_stream(workspace)
    check_the_topics(workspace)
    check_the_sources(workspace)
    check_the_launch_spike(workspace)

    counts = (Mention.objects.count(), Topic.objects.count(), Source.objects.count(),
              MentionTopic.objects.count())  # fmt: skip
    ensure_demo()
    assert demo.ensure_listening_demo(workspace) == 0
    assert counts == (Mention.objects.count(), Topic.objects.count(), Source.objects.count(),
                      MentionTopic.objects.count())  # fmt: skip


def check_the_stream(workspace):
    mentions = Mention.objects.filter(workspace=workspace)
    assert 2000 <= mentions.count() <= 6000
    oldest = mentions.order_by("published_at").first().published_at
    assert timezone.now() - oldest > timedelta(days=55)
    # Detected at ingestion: a few English posts full of French brand names read as
    # French or undetermined (12 of ~3,250 with this seed).
    langs = set(mentions.values_list("lang", flat=True).distinct())
    assert {"fr", "en"} <= langs <= {"fr", "en", "und"}
    assert mentions.exclude(lang__in=("fr", "en")).count() < mentions.count() / 100
    assert not mentions.filter(sentiment="").exists()
    networks = set(mentions.values_list("network", flat=True).distinct())
    assert {"web", "mastodon", "bluesky", "reddit", "hackernews"} <= networks
    # Syndicated copies are grouped: "also seen in N places".
    assert MentionCopy.objects.filter(workspace=workspace).exists()
    assert mentions.filter(also_seen__gt=0).exists()


def check_the_topics(workspace):
    """Ingestion matched the mentions against the demo topics."""
    topics = Topic.objects.filter(workspace=workspace)
    assert {topic.name for topic in topics} == {name for name, *_rest in demo.TOPICS}
    for topic in topics:
        assert MentionTopic.objects.filter(topic=topic).count() > 50, topic.name
    brand = topics.get(name=demo.BRAND)
    linked = Mention.objects.filter(topic_links__topic=brand)
    assert all("lumi" in (m.title + m.text).lower() for m in linked[:200])


def check_the_sources(workspace):
    sources = Source.objects.filter(workspace=workspace)
    assert sources.count() == len(demo.FEEDS) + len(demo.NETWORK_SOURCES)
    assert not sources.filter(paused_at__isnull=True).exists()
    assert all(".example" in source.url for source in sources)


def check_the_launch_spike(workspace):
    tz = workspace.tzinfo
    per_day = {}
    for published in Mention.objects.filter(workspace=workspace).values_list(
        "published_at", flat=True
    ):
        day = timezone.localtime(published, tz).date()
        per_day[day] = per_day.get(day, 0) + 1
    busiest = max(per_day.values())
    typical = sorted(per_day.values())[len(per_day) // 2]
    assert busiest > 3 * typical


def test_generation_is_deterministic():
    now = timezone.now()
    first = [(key, item.url, item.text) for key, item in demo.generate(now)]
    second = [(key, item.url, item.text) for key, item in demo.generate(now)]
    assert first == second
