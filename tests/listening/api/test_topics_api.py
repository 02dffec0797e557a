"""/api/v1/topics: saved queries with validation, and backtests over stored history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.core.roles import Role
from tribu.listening.items import ParsedItem
from tribu.listening.models import Topic
from tribu.listening.services.ingest import ingest_items


@pytest.fixture
def editor(team, api_as):
    return api_as(team["workspace"], team[Role.EDITOR])


def test_a_topic_is_created_read_changed_and_deleted(editor):
    response = editor.post(
        "topics",
        {"name": "Marque", "query": 'lumière OR "maison lumière"', "colour": "#ff8800"},
    )
    assert response.status_code == 201, response.content
    topic = response.json()
    assert (topic["name"], topic["colour"], topic["kind"]) == ("Marque", "#ff8800", "brand")
    assert editor.get(f"topics/{topic['id']}").json()["query"] == 'lumière OR "maison lumière"'
    assert [item["id"] for item in editor.get("topics").json()["items"]] == [topic["id"]]

    changed = editor.patch(f"topics/{topic['id']}", {"query": "lumiere", "kind": "competitor"})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["query"], changed.json()["kind"]) == ("lumiere", "competitor")
    assert Topic.objects.get().version == 2

    assert editor.delete(f"topics/{topic['id']}").status_code == 204
    assert editor.get(f"topics/{topic['id']}").status_code == 404


def test_an_invalid_query_answers_422_with_its_position(editor):
    response = editor.post("topics", {"name": "Marque", "query": "tribu AND (lumière"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    [message] = body["errors"]["query"]
    assert "never closed" in message
    error = body["query_error"]
    assert error["position"] == 18
    assert error["code"] == "unbalanced_parenthesis"
    assert error["suggestion"] and error["suggestion"] in message
    assert not Topic.objects.exists()


def test_an_invalid_query_is_explained_in_the_token_users_language(team, api_as):
    team[Role.EDITOR].language = "fr"
    team[Role.EDITOR].save()
    client = api_as(team["workspace"], team[Role.EDITOR])
    body = client.post("topics", {"name": "Marque", "query": "tribu AND"}).json()
    assert body["query_error"]["position"] == 9
    assert body["message"] != "Some fields are not valid: see “errors” for each field."


def test_a_taken_name_and_a_bad_colour_are_refused(editor):
    editor.post("topics", {"name": "Marque", "query": "tribu"})
    taken = editor.post("topics", {"name": "marque", "query": "autre"})
    assert taken.status_code == 422
    assert "already exists" in taken.json()["errors"]["name"][0]
    colour = editor.post("topics", {"name": "Autre", "query": "x", "colour": "orange"})
    assert colour.status_code == 422
    assert "six hexadecimal digits" in colour.json()["errors"]["colour"][0]


def test_a_patch_with_an_invalid_query_changes_nothing(editor):
    topic_id = editor.post("topics", {"name": "Marque", "query": "tribu"}).json()["id"]
    response = editor.patch(f"topics/{topic_id}", {"query": '"oops'})
    assert response.status_code == 422
    assert response.json()["query_error"]["position"] == 0
    assert Topic.objects.get().query == "tribu"


def test_backtest_counts_matches_per_day_with_a_sample(team, api_as):
    workspace = team["workspace"]
    now = timezone.now()
    ingest_items(
        workspace.pk,
        [
            ParsedItem(
                url=f"https://blog.example/{number}",
                title=title,
                text=f"{title} billet {number}",
                published_at=now - timedelta(days=days),
            )
            for number, (title, days) in enumerate(
                [("Lumière ouvre", 1), ("Lumière encore", 3), ("Autre chose", 2)]
            )
        ],
    )
    viewer = api_as(workspace, team[Role.VIEWER])
    response = viewer.post("topics/backtest", {"query": "lumiere", "days": 7})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 2
    assert len(body["per_day"]) == 8
    assert sum(day["count"] for day in body["per_day"]) == 2
    assert [mention["title"] for mention in body["sample"]] == ["Lumière ouvre", "Lumière encore"]
    invalid = viewer.post("topics/backtest", {"query": "lumiere AND", "days": 7})
    assert invalid.status_code == 422
    assert invalid.json()["query_error"]["position"] == 11
