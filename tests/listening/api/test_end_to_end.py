"""A script drives listening with a workspace API token, against a feed on loopback:
follow the feed, save a topic, poll, read the matching mentions and the source's health;
the next poll is conditional, gets 304 and creates nothing."""

from io import StringIO

from django.core.management import call_command
from werkzeug import Response

from tribu.core.roles import Role
from tribu.listening.models import Mention

FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Revue de presse</title><id>urn:presse</id><updated>2024-05-07T10:00:00Z</updated>
  <entry><title>Maison Lumière ouvre à Lyon</title><id>urn:1</id>
    <link href="https://presse.example/lumiere-lyon"/>
    <updated>2024-05-07T10:00:00Z</updated><summary>La marque s'installe.</summary></entry>
  <entry><title>Le marché du luminaire</title><id>urn:2</id>
    <link href="https://presse.example/marche"/>
    <updated>2024-05-06T10:00:00Z</updated><summary>Les concurrents d'Ombre.</summary></entry>
  <entry><title>L'éclairage de l'école</title><id>urn:3</id>
    <link href="https://presse.example/ecole"/>
    <updated>2024-05-05T10:00:00Z</updated><summary>Lumiere partenaire.</summary></entry>
</feed>"""


def test_listening_end_to_end_with_an_api_token(team, api_as, httpserver, settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    requests = []

    def feed(request):
        requests.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"presse-1"':
            return Response(status=304, headers={"ETag": '"presse-1"'})
        return Response(FEED, content_type="application/atom+xml", headers={"ETag": '"presse-1"'})

    httpserver.expect_request("/presse.xml").respond_with_handler(feed)
    client = api_as(team["workspace"], team[Role.EDITOR])

    created = client.post("sources", {"kind": "feed", "url": httpserver.url_for("/presse.xml")})
    assert created.status_code == 201, created.content
    source_id = created.json()["id"]

    topic = client.post("topics", {"name": "Marque", "query": 'lumiere OR "maison lumière"'})
    assert topic.status_code == 201, topic.content
    topic_id = topic.json()["id"]

    out = StringIO()
    call_command("listen", "poll", "--once", stdout=out)
    assert out.getvalue().strip() == f"#{source_id} Revue de presse: 3 new, 0 duplicates"

    mentions = client.get(f"mentions?topic={topic_id}").json()
    assert mentions["next"] is None
    assert [(item["title"], item["url"]) for item in mentions["items"]] == [
        ("Maison Lumière ouvre à Lyon", "https://presse.example/lumiere-lyon"),
        ("L'éclairage de l'école", "https://presse.example/ecole"),
    ]
    assert all(item["topics"] == [topic_id] for item in mentions["items"])

    health = client.get(f"sources/{source_id}").json()
    assert health["items_seen"] == 3
    assert health["last_success_at"] is not None
    assert (health["last_error"], health["status"], health["name"]) == (
        "",
        "ok",
        "Revue de presse",
    )

    # The second poll sends the ETag back, gets 304 and stores nothing.
    out = StringIO()
    call_command("listen", "poll", "--source", str(source_id), "--once", stdout=out)
    assert "not modified" in out.getvalue()
    assert requests == [None, '"presse-1"']
    assert Mention.objects.count() == 3
    again = client.get(f"sources/{source_id}").json()
    assert again["items_seen"] == 3
    assert again["last_success_at"] >= health["last_success_at"]
