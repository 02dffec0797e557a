"""/api/v1/mentions: the stream with filters, search and cursors; detail; triage."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from tribu.core.roles import Role
from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention
from tribu.listening.services import sources, topics
from tribu.listening.services.ingest import ingest_items


@pytest.fixture
def stream(team):
    """Two topics, a source and five mentions, newest first: m4 ... m0."""
    workspace = team["workspace"]
    brand = topics.create_topic(workspace, name="Marque", query="lumière")
    rival = topics.create_topic(workspace, name="Concurrent", query="ombre")
    source = sources.create_source(workspace, kind="feed", url="https://blog.example/rss")
    now = timezone.now()
    texts = [
        ("Lumière ouvre une boutique", "fr", "web"),
        ("Ombre baisse ses prix", "fr", "web"),
        ("Lumière and Ombre compared", "en", "mastodon"),
        ("Rien à voir", "fr", "web"),
        ("Lumière recrute", "fr", "reddit"),
    ]
    items = [
        ParsedItem(
            url=f"https://blog.example/{number}",
            guid=str(number),
            title=text,
            text=f"{text}, billet numéro {number}",
            author_name="Jeanne",
            published_at=now - timedelta(hours=10 - number),
            network=network,
        )
        for number, (text, _lang, network) in enumerate(texts)
    ]
    report = ingest_items(workspace.pk, items, source=source)
    ids = {}
    for number, (text, lang, _network) in enumerate(texts):
        mention = Mention.objects.get(title=text)
        Mention.objects.filter(pk=mention.pk).update(lang=lang)
        ids[number] = mention.pk
    assert report.created == 5
    return {"brand": brand, "rival": rival, "source": source, "ids": ids}


@pytest.fixture
def viewer(team, api_as):
    return api_as(team["workspace"], team[Role.VIEWER])


def titles(body):
    return [item["title"] for item in body["items"]]


def test_the_stream_is_newest_first_with_topics_and_source(viewer, stream):
    body = viewer.get("mentions").json()
    assert body["next"] is None
    assert titles(body) == [
        "Lumière recrute",
        "Rien à voir",
        "Lumière and Ombre compared",
        "Ombre baisse ses prix",
        "Lumière ouvre une boutique",
    ]
    compared = body["items"][2]
    assert {"id", "url", "title", "text", "published_at", "topics", "source"} <= set(compared)
    assert [topic["name"] for topic in compared["topic_details"]] == ["Concurrent", "Marque"]
    assert compared["topics"] == [topic["id"] for topic in compared["topic_details"]]
    mention = Mention.objects.get(pk=compared["id"])
    assert compared["sentiment"] == mention.sentiment != ""
    assert compared["sentiment_score"] == mention.sentiment_score
    assert (compared["source"], compared["network"], compared["author"]) == (
        "blog.example",
        "mastodon",
        "Jeanne",
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "topic={brand}",
            ["Lumière recrute", "Lumière and Ombre compared", "Lumière ouvre une boutique"],
        ),
        ("topic={rival}&network=web", ["Ombre baisse ses prix"]),
        ("lang=en", ["Lumière and Ombre compared"]),
        ("source={source}&network=reddit", ["Lumière recrute"]),
        ("q=boutique", ["Lumière ouvre une boutique"]),
        ("q=prix&order=relevance", ["Ombre baisse ses prix"]),
    ],
)
def test_filters(viewer, stream, query, expected):
    query = query.format(
        brand=stream["brand"].pk, rival=stream["rival"].pk, source=stream["source"].pk
    )
    response = viewer.get(f"mentions?{query}")
    assert response.status_code == 200, response.content
    assert titles(response.json()) == expected


def test_date_filters(viewer, stream):
    since = (timezone.now() - timedelta(hours=7, minutes=30)).isoformat()
    response = viewer.get("mentions?" + urlencode({"since": since}))
    assert titles(response.json()) == ["Lumière recrute", "Rien à voir"]
    until = (timezone.now() - timedelta(hours=9, minutes=30)).isoformat()
    response = viewer.get("mentions?" + urlencode({"until": until}))
    assert titles(response.json()) == ["Lumière ouvre une boutique"]


def test_cursor_pagination_walks_the_stream_once(viewer, stream):
    seen, cursor = [], None
    while True:
        path = "mentions?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = viewer.get(path).json()
        assert len(body["items"]) <= 2
        seen += titles(body)
        cursor = body["next"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5


def test_bad_parameters_answer_422(viewer, stream):
    for query in ("cursor=banana", "limit=0", "order=random", "since=yesterday"):
        response = viewer.get(f"mentions?{query}")
        assert response.status_code == 422, query
        assert response.json()["code"] == "invalid"


def test_detail_and_triage(team, api_as, viewer, stream):
    mention_id = stream["ids"][0]
    detail = viewer.get(f"mentions/{mention_id}").json()
    assert detail["title"] == "Lumière ouvre une boutique"
    assert {"html", "copies", "engagement"} <= set(detail)

    contributor = api_as(team["workspace"], team[Role.CONTRIBUTOR])
    response = contributor.patch(f"mentions/{mention_id}", {"read": True, "starred": True})
    assert response.status_code == 200, response.content
    assert (response.json()["read"], response.json()["starred"]) == (True, True)

    assert titles(viewer.get("mentions?starred=true").json()) == ["Lumière ouvre une boutique"]
    assert len(viewer.get("mentions?read=false").json()["items"]) == 4

    contributor.patch(f"mentions/{mention_id}", {"hidden": True})
    assert "Lumière ouvre une boutique" not in titles(viewer.get("mentions").json())
    assert titles(viewer.get("mentions?hidden=true").json()) == ["Lumière ouvre une boutique"]
    assert len(viewer.get("mentions?hidden=all").json()["items"]) == 5

    assert viewer.patch(f"mentions/{mention_id}", {"read": False}).status_code == 403
