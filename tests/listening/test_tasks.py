"""tribu.listening.tasks: the re-match task (huey runs tasks inline in tests)."""

from tribu.listening.items import ParsedItem
from tribu.listening.models import MentionTopic, Topic
from tribu.listening.services.ingest import ingest_items
from tribu.listening.tasks import rematch_topic


def test_rematch_task_links_history_and_is_idempotent(workspace):
    ingest_items(workspace.pk, [ParsedItem(url="https://a.example/1", text="Maison Lumière")])
    topic = Topic.objects.create(workspace=workspace, name="L", query="lumiere")
    assert rematch_topic(topic.pk, topic.version).get() == 1
    assert rematch_topic(topic.pk, topic.version).get() == 1
    assert MentionTopic.objects.filter(topic=topic).count() == 1
    topic.refresh_from_db()
    assert topic.rematched_version == 1 and topic.rematched_at is not None


def test_rematch_task_for_a_stale_version_is_a_no_op(workspace):
    ingest_items(workspace.pk, [ParsedItem(url="https://a.example/1", text="Maison Lumière")])
    topic = Topic.objects.create(workspace=workspace, name="L", query="lumiere", version=3)
    assert rematch_topic(topic.pk, 2).get() is None
    assert not MentionTopic.objects.exists()
