"""/api/v1/sources: follow feeds and network searches, read their health, pause, delete."""

import pytest

from tribu.core.models import AuditEvent
from tribu.core.roles import Role
from tribu.listening.models import Source
from tribu.listening.services import sources as sources_service

HEALTH_FIELDS = {
    "last_success_at",
    "last_error",
    "last_error_at",
    "items_seen",
    "next_poll_at",
    "paused",
    "paused_reason",
    "status",
    "status_label",
}


@pytest.fixture
def editor(team, api_as):
    return api_as(team["workspace"], team[Role.EDITOR])


def test_a_feed_is_followed_and_its_health_read(team, editor):
    response = editor.post("sources", {"kind": "feed", "url": "https://news.example/rss"})
    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) >= HEALTH_FIELDS
    assert (created["kind"], created["url"], created["name"]) == (
        "feed",
        "https://news.example/rss",
        "news.example",
    )
    assert (created["status"], created["items_seen"], created["last_success_at"]) == (
        "new",
        0,
        None,
    )
    assert created["next_poll_at"] is not None and created["paused"] is False
    assert AuditEvent.objects.get(action="source.created").actor == team[Role.EDITOR]

    detail = editor.get(f"sources/{created['id']}").json()
    assert detail == created
    listing = editor.get("sources").json()
    assert [item["id"] for item in listing["items"]] == [created["id"]]


def test_a_private_address_is_refused_with_a_clear_message(editor):
    response = editor.post("sources", {"kind": "feed", "url": "http://127.0.0.1:8080/rss"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    [message] = body["errors"]["url"]
    assert "private or reserved network address" in message
    assert "TRIBU_ALLOW_PRIVATE_ADDRESSES" in message
    assert not Source.objects.exists()


def test_an_operator_may_allow_private_addresses(editor, settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    response = editor.post("sources", {"kind": "feed", "url": "http://127.0.0.1:8080/rss"})
    assert response.status_code == 201, response.content


def test_the_same_feed_twice_is_a_conflict(editor):
    editor.post("sources", {"kind": "feed", "url": "https://news.example/rss", "name": "News"})
    response = editor.post("sources", {"kind": "feed", "url": "https://NEWS.example/rss"})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "already follows this source, as “News”" in response.json()["errors"]["url"][0]


def test_an_unknown_kind_is_invalid(editor):
    response = editor.post("sources", {"kind": "myspace", "url": "https://x.example"})
    assert response.status_code == 422
    assert "kind" in response.json()["errors"]


def test_a_network_source_keeps_its_token_to_itself(editor):
    response = editor.post(
        "sources",
        {
            "kind": "mastodon",
            "config": {
                "base_url": "https://mastodon.example",
                "mode": "search",
                "query": "lumière",
                "access_token": "s3cret",
            },
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["config"] == {
        "base_url": "https://mastodon.example",
        "mode": "search",
        "query": "lumière",
    }
    assert "s3cret" not in response.content.decode()
    source = Source.objects.get()
    assert "access_token" not in source.config
    assert sources_service.connector_config(source)["access_token"] == "s3cret"


def test_bad_network_settings_name_the_field(editor):
    response = editor.post(
        "sources", {"kind": "reddit", "config": {"mode": "subreddit", "query": "two words"}}
    )
    assert response.status_code == 422
    assert "subreddit" in response.json()["errors"]["config.query"][0]


def test_pause_resume_rename_and_delete(team, editor):
    source_id = editor.post("sources", {"kind": "feed", "url": "https://news.example/rss"}).json()[
        "id"
    ]
    paused = editor.patch(f"sources/{source_id}", {"paused": True, "name": "Les Nouvelles"})
    assert paused.status_code == 200, paused.content
    body = paused.json()
    assert (body["name"], body["paused"], body["status"]) == ("Les Nouvelles", True, "paused")
    assert "editor@example.com" in body["paused_reason"]
    assert body["next_poll_at"] is None

    resumed = editor.patch(f"sources/{source_id}", {"paused": False}).json()
    assert (resumed["paused"], resumed["paused_reason"]) == (False, "")

    off = editor.patch(f"sources/{source_id}", {"enabled": False}).json()
    assert (off["enabled"], off["status"]) == (False, "disabled")

    assert editor.patch(f"sources/{source_id}", {"name": "  "}).status_code == 422

    assert editor.delete(f"sources/{source_id}").status_code == 204
    assert editor.get(f"sources/{source_id}").status_code == 404
    assert [
        event.action
        for event in AuditEvent.objects.filter(action__startswith="source.").order_by("pk")
    ] == ["source.created", "source.paused", "source.resumed", "source.deleted"]


def test_viewers_read_but_do_not_change_sources(team, api_as, editor):
    source_id = editor.post("sources", {"kind": "feed", "url": "https://news.example/rss"}).json()[
        "id"
    ]
    viewer = api_as(team["workspace"], team[Role.VIEWER])
    assert viewer.get(f"sources/{source_id}").status_code == 200
    response = viewer.patch(f"sources/{source_id}", {"paused": True})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
