"""Topics: list, create and edit with query validation, live check, backtest, delete."""

import pytest
from django.urls import reverse

from tribu.core.roles import Role
from tribu.listening.models import MentionTopic, Topic


def url(workspace, name, *args):
    return reverse(f"listening:{name}", args=[workspace.slug, *args])


def test_the_list_shows_each_topic_with_its_count(owner_client, workspace, add_mentions, brand):
    add_mentions(("Lampe", "Maison Lumière"), ("Chaise", "rotin"))
    response = owner_client.get(url(workspace, "topics"))
    body = response.content.decode()
    assert "Lumière" in body and "topic-c4" in body
    assert f'?topic={brand.id}">1</a>' in body


def test_creating_a_topic_matches_stored_history(
    owner_client, workspace, add_mentions, django_capture_on_commit_callbacks
):
    add_mentions(("Lampe", "une lampe Aube"), ("Chaise", "rotin"))
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            url(workspace, "topic_create"),
            {"name": "Aube", "kind": "brand", "colour": "#15803d", "query": "aube OR zenith"},
        )
    assert response.status_code == 302
    topic = Topic.objects.get(workspace=workspace, name="Aube")
    assert (topic.query, topic.colour) == ("aube OR zenith", "#15803d")
    # Huey runs inline in tests: the re-match already linked the stored mention.
    assert MentionTopic.objects.filter(topic=topic).count() == 1


def test_an_invalid_query_is_refused_with_its_position(owner_client, workspace):
    response = owner_client.post(
        url(workspace, "topic_create"),
        {"name": "Cassé", "kind": "brand", "colour": "#2563eb", "query": "(lampe OR"},
    )
    assert response.status_code == 400
    check = response.context["check"]
    assert check["error"] and check["position"] >= 1
    assert "<mark>" in response.content.decode()
    assert not Topic.objects.filter(name="Cassé").exists()


def test_a_duplicate_name_is_shown_on_the_name_field(owner_client, workspace, brand):
    response = owner_client.post(
        url(workspace, "topic_create"),
        {"name": "lumière", "kind": "brand", "colour": "#2563eb", "query": "x"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"]


def test_the_live_check_explains_or_places_the_error(owner_client, workspace):
    ok = owner_client.get(url(workspace, "topic_check"), {"query": "lampe OR luminaire"})
    assert ok.context["check"]["ok"]
    assert "Valid query." in ok.content.decode()
    bad = owner_client.get(url(workspace, "topic_check"), {"query": 'lampe "ouvert'})
    check = bad.context["check"]
    assert check["error"] and check["before"].startswith("lampe")
    assert bad.content.decode().count("<html") == 0


def test_the_backtest_counts_per_day_with_a_chart_and_a_sample(
    owner_client, workspace, add_mentions
):
    add_mentions(("Lampe", "une lampe Aube"), ("Autre", "une lampe Halo"), ("Chaise", "rotin"))
    response = owner_client.post(url(workspace, "topic_backtest"), {"query": "lampe"})
    assert response.status_code == 200
    backtest = response.context["backtest"]
    assert backtest["result"].total == 2
    body = response.content.decode()
    assert "<svg" in body and 'role="img"' in body and "<table" in body
    assert "Lampe" in body and "Chaise" not in body


def test_the_backtest_counts_download_as_csv(owner_client, workspace, add_mentions):
    add_mentions(("Lampe", "une lampe"))
    response = owner_client.get(
        url(workspace, "topic_backtest"), {"query": "lampe", "format": "csv"}
    )
    lines = response.content.decode().splitlines()
    assert lines[0] == "day,mentions"
    assert sum(int(line.split(",")[1]) for line in lines[1:]) == 1


def test_the_backtest_button_works_without_javascript(owner_client, workspace, add_mentions):
    add_mentions(("Lampe", "une lampe"))
    response = owner_client.post(
        url(workspace, "topic_create"),
        {"name": "Lampes", "kind": "sector", "colour": "#2563eb", "query": "lampe",
         "action": "backtest"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.context["backtest"]["result"].total == 1
    assert not Topic.objects.filter(name="Lampes").exists()


def test_editing_changes_the_query(owner_client, workspace, brand):
    response = owner_client.post(
        url(workspace, "topic_edit", brand.id),
        {"name": "Lumière", "kind": "brand", "colour": "#b45309", "query": "lumiere OR lumineux"},
    )
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.query == "lumiere OR lumineux" and brand.version == 2


def test_a_refused_edit_keeps_the_topic_unchanged(owner_client, workspace, brand):
    response = owner_client.post(
        url(workspace, "topic_edit", brand.id),
        {"name": "Autre nom", "kind": "brand", "colour": "#b45309", "query": "lumiere AND"},
    )
    assert response.status_code == 400
    brand.refresh_from_db()
    assert (brand.name, brand.query) == ("Lumière", "lumiere")


def test_delete_asks_then_deletes(owner_client, workspace, brand):
    page = owner_client.get(url(workspace, "topic_delete", brand.id))
    assert "Delete the topic" in page.content.decode()
    assert owner_client.post(url(workspace, "topic_delete", brand.id)).status_code == 302
    assert not Topic.objects.filter(pk=brand.pk).exists()


@pytest.mark.parametrize("role", [Role.APPROVER, Role.VIEWER])
def test_readers_see_topics_but_cannot_manage_them(client_for, make_member, workspace, brand, role):
    client = client_for(make_member(workspace, role))
    page = client.get(url(workspace, "topics"))
    assert page.status_code == 200 and "New topic" not in page.content.decode()
    assert client.get(url(workspace, "topic_create")).status_code == 403
    assert client.post(url(workspace, "topic_delete", brand.id)).status_code == 403
