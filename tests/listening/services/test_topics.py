"""tribu.listening.services.topics: validation, backtest, re-matching, the shared matcher."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tribu.core.models import AuditEvent
from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention, MentionTopic, Topic
from tribu.listening.query import QueryError
from tribu.listening.services import topics
from tribu.listening.services.ingest import ingest_items
from tribu.listening.services.topics import TopicError

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def item(n, text, days_ago=0):
    return ParsedItem(
        url=f"https://site.example/{n}", text=text, published_at=NOW - timedelta(days=days_ago)
    )


def test_create_validates_and_audits(workspace, user):
    topic = topics.create_topic(workspace, name=" Lumière ", query="lumiere OR lumière", actor=user)
    assert (topic.name, topic.kind, topic.version) == ("Lumière", "brand", 1)
    assert AuditEvent.objects.filter(action="topic.created", target_label="Lumière").exists()


def test_an_invalid_query_carries_the_query_error(workspace):
    with pytest.raises(TopicError) as caught:
        topics.create_topic(workspace, name="Cassé", query="lumiere AND (")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value.query_error, QueryError)
    assert caught.value.field == "query"
    assert caught.value.query_error.position >= 0
    assert str(caught.value)
    assert not Topic.objects.exists()


def test_empty_query_and_name_are_refused(workspace):
    with pytest.raises(TopicError) as caught:
        topics.create_topic(workspace, name="Vide", query="  ")
    assert caught.value.field == "query"
    with pytest.raises(TopicError) as caught:
        topics.create_topic(workspace, name=" ", query="x")
    assert caught.value.field == "name"


def test_names_are_unique_per_workspace_ignoring_case(workspace, make_workspace):
    topics.create_topic(workspace, name="Marque", query="x")
    with pytest.raises(TopicError) as caught:
        topics.create_topic(workspace, name="marque", query="y")
    assert caught.value.field == "name"
    topics.create_topic(make_workspace(), name="Marque", query="x")


def test_saving_a_topic_rematches_history_after_commit(
    workspace, django_capture_on_commit_callbacks
):
    ingest_items(workspace.pk, [item(1, "Maison Lumière à Lyon"), item(2, "Rien à voir")])
    with django_capture_on_commit_callbacks(execute=True):
        topic = topics.create_topic(workspace, name="Lumière", query="lumiere")
    topic.refresh_from_db()
    assert list(topic.mention_links.values_list("mention__url", flat=True)) == [
        "https://site.example/1"
    ]
    assert topic.rematched_version == topic.version == 1
    assert not topic.rematch_pending

    with django_capture_on_commit_callbacks(execute=True):
        topics.update_topic(topic, query="voir")
    topic.refresh_from_db()
    assert topic.version == 2 and topic.rematched_version == 2
    assert list(topic.mention_links.values_list("mention__url", flat=True)) == [
        "https://site.example/2"
    ]


def test_renaming_does_not_rematch(workspace):
    topic = topics.create_topic(workspace, name="A", query="x")
    topics.update_topic(topic, name="B", colour="#ff0000")
    topic.refresh_from_db()
    assert (topic.name, topic.colour, topic.version) == ("B", "#ff0000", 1)


def test_rematch_for_an_outdated_version_does_nothing(workspace):
    ingest_items(workspace.pk, [item(1, "lumière")])
    topic = topics.create_topic(workspace, name="L", query="lumiere")
    assert topics.rematch(topic.pk, version=topic.version + 1) is None
    assert topics.rematch(topic.pk + 1000) is None


def test_rematch_is_idempotent_and_batched(workspace):
    ingest_items(workspace.pk, [item(n, f"lumière {n}") for n in range(7)])
    topic = topics.create_topic(workspace, name="L", query="lumiere")
    assert topics.rematch(topic.pk, topic.version, batch=3) == 7
    assert topics.rematch(topic.pk, topic.version, batch=3) == 7
    assert MentionTopic.objects.count() == 7


def test_rematch_only_touches_its_topic(workspace, django_capture_on_commit_callbacks):
    ingest_items(workspace.pk, [item(1, "lumière et bougie")])
    with django_capture_on_commit_callbacks(execute=True):
        first = topics.create_topic(workspace, name="L", query="lumiere")
        second = topics.create_topic(workspace, name="B", query="bougie")
    assert first.mention_links.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        topics.update_topic(first, query="absent")
    assert not first.mention_links.exists()
    assert second.mention_links.count() == 1


def test_backtest_counts_per_day_with_a_sample(workspace):
    ingest_items(
        workspace.pk,
        [
            item(1, "lumière un", days_ago=0),
            item(2, "lumière deux", days_ago=0),
            item(3, "lumière trois", days_ago=2),
            item(4, "autre chose", days_ago=1),
            item(5, "lumière trop ancienne", days_ago=40),
        ],
    )
    result = topics.backtest(workspace, "lumiere", days=30, now=NOW)
    assert result.total == 3
    assert result.scanned == 4 and not result.truncated
    per_day = dict(result.per_day)
    assert len(result.per_day) == 31
    assert per_day[date(2025, 3, 10)] == 2 and per_day[date(2025, 3, 8)] == 1
    assert per_day[date(2025, 3, 9)] == 0
    assert [m.url for m in result.sample][0] in ("https://site.example/1", "https://site.example/2")
    assert set(result.as_dict()) == {"total", "per_day", "sample", "scanned", "truncated"}
    assert not Topic.objects.exists()  # a backtest saves nothing


def test_backtest_says_when_it_stopped(workspace):
    ingest_items(workspace.pk, [item(n, f"lumière {n}", days_ago=0) for n in range(5)])
    result = topics.backtest(workspace, "lumiere", now=NOW, limit=3)
    assert (result.total, result.scanned, result.truncated) == (3, 3, True)


def test_backtest_of_an_invalid_query_raises(workspace):
    with pytest.raises(TopicError):
        topics.backtest(workspace, "(", now=NOW)


def test_backtest_only_reads_its_workspace(workspace, make_workspace):
    other = make_workspace()
    ingest_items(other.pk, [item(1, "lumière")])
    assert topics.backtest(workspace, "lumiere", now=NOW).total == 0


def test_delete_removes_links_and_is_audited(workspace):
    ingest_items(workspace.pk, [item(1, "lumière")])
    topic = topics.create_topic(workspace, name="L", query="lumiere")
    topics.rematch(topic.pk)
    assert MentionTopic.objects.exists()
    topics.delete_topic(topic)
    assert not MentionTopic.objects.exists()
    assert Mention.objects.count() == 1
    assert AuditEvent.objects.filter(action="topic.deleted").exists()
