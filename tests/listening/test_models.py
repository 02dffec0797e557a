"""tribu.listening.models: constraints the ingestion relies on."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from tribu.listening.models import Mention, MentionTopic, Source, Topic

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def mention(workspace, sort_key, **fields):
    return Mention.objects.create(workspace=workspace, published_at=T0, sort_key=sort_key, **fields)


def test_sort_keys_are_unique(workspace):
    mention(workspace, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        mention(workspace, 1)


@pytest.mark.parametrize("key", ["url_key", "content_hash"])
def test_exact_duplicate_keys_are_unique_per_workspace(workspace, make_workspace, key):
    mention(workspace, 1, **{key: 42})
    mention(make_workspace(), 2, **{key: 42})
    mention(workspace, 3)  # no key: no constraint
    mention(workspace, 4)
    with pytest.raises(IntegrityError), transaction.atomic():
        mention(workspace, 5, **{key: 42})


def test_guid_keys_are_unique_per_source(workspace):
    first = Source.objects.create(workspace=workspace, url="https://a.example/feed")
    second = Source.objects.create(workspace=workspace, url="https://b.example/feed")
    mention(workspace, 1, source=first, guid_key=7)
    mention(workspace, 2, source=second, guid_key=7)
    with pytest.raises(IntegrityError), transaction.atomic():
        mention(workspace, 3, source=first, guid_key=7)


def test_a_mention_links_a_topic_once(workspace):
    topic = Topic.objects.create(workspace=workspace, name="T", query="x")
    m = mention(workspace, 1)
    fields = {"workspace": workspace, "published_at": T0, "sort_key": 1}
    MentionTopic.objects.create(mention=m, topic=topic, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        MentionTopic.objects.create(mention=m, topic=topic, **fields)
    assert list(m.topics.all()) == [topic]


def test_deleting_a_source_keeps_its_mentions(workspace):
    source = Source.objects.create(workspace=workspace, url="https://a.example/feed")
    m = mention(workspace, 1, source=source)
    source.delete()
    m.refresh_from_db()
    assert m.source is None


def test_topic_names_are_unique_per_workspace(workspace):
    Topic.objects.create(workspace=workspace, name="T", query="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Topic.objects.create(workspace=workspace, name="T", query="y")


def test_strings_and_rematch_state(workspace):
    topic = Topic.objects.create(workspace=workspace, name="T", query="x")
    assert topic.rematch_pending and str(topic) == "T"
    assert str(Source(url="https://a.example/feed")) == "https://a.example/feed"
    assert str(Mention(title="", text="Bonjour", url="u")) == "Bonjour"
