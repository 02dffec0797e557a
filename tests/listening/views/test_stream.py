"""The stream page, triage actions, the mention page and the CSV export."""

import csv
import io

import pytest
from django.urls import reverse

from tribu.core.roles import Role
from tribu.listening.models import Mention
from tribu.listening.services.mentions import PAGE_SIZE


def stream_url(workspace, query=""):
    return reverse("listening:stream", args=[workspace.slug]) + query


def test_the_stream_shows_mentions_newest_first_with_topic_chips(
    owner_client, workspace, add_mentions, brand
):
    add_mentions(("Une lampe", "La Maison Lumière brille"), ("Autre", "Rien à voir ici"))
    response = owner_client.get(stream_url(workspace))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Autre") < html.index("Une lampe")
    # The topic's colour is a palette class (no style attribute: the CSP forbids them).
    assert 'class="chip topic-c4"' in html
    assert "style=" not in html
    assert 'rel="noopener noreferrer nofollow ugc"' in html


def test_filters_by_topic_search_and_read_state(owner_client, workspace, add_mentions, brand):
    lamp, other = add_mentions(("Lampe", "Maison Lumière"), ("Chaise", "un fauteuil en rotin"))
    Mention.objects.filter(pk=other.pk).update(read=True)

    by_topic = owner_client.get(stream_url(workspace, f"?topic={brand.id}")).content.decode()
    assert "Lampe" in by_topic and "Chaise" not in by_topic

    searched = owner_client.get(stream_url(workspace, "?q=rotin")).content.decode()
    assert "Chaise" in searched and "Lampe" not in searched

    unread = owner_client.get(stream_url(workspace, "?read=0")).content.decode()
    assert "Lampe" in unread and "Chaise" not in unread


def test_hidden_mentions_only_show_on_request(owner_client, workspace, add_mentions):
    [mention] = add_mentions(("Caché", "un texte"))
    Mention.objects.filter(pk=mention.pk).update(hidden=True)
    assert "Caché" not in owner_client.get(stream_url(workspace)).content.decode()
    assert "Caché" in owner_client.get(stream_url(workspace, "?hidden=all")).content.decode()


def test_older_mentions_come_by_cursor_and_through_htmx(owner_client, workspace, add_mentions):
    add_mentions(*[(f"Article {index:03d}", "texte") for index in range(PAGE_SIZE + 3)])
    first = owner_client.get(stream_url(workspace))
    next_url = first.context["next_url"]
    assert next_url and "cursor=" in next_url
    assert "Article 002" not in first.content.decode()

    plain = owner_client.get(next_url)
    assert "Article 002" in plain.content.decode() and "<html" in plain.content.decode()

    partial = owner_client.get(next_url, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "Article 000" in body and "<html" not in body
    assert partial.context["next_url"] is None


def test_star_without_javascript_redirects_back(owner_client, workspace, add_mentions):
    [mention] = add_mentions(("Étoile", "texte"))
    url = reverse("listening:mention_triage", args=[workspace.slug, mention.id])
    back = stream_url(workspace, "?q=texte")
    response = owner_client.post(url, {"action": "star", "next": back})
    assert response.status_code == 302
    assert response.url == f"{back}#mention-{mention.id}"
    mention.refresh_from_db()
    assert mention.starred


def test_triage_through_htmx_returns_the_updated_item(owner_client, workspace, add_mentions):
    [mention] = add_mentions(("Lu", "texte"))
    url = reverse("listening:mention_triage", args=[workspace.slug, mention.id])
    response = owner_client.post(url, {"action": "read"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<li") and "is-read" in body
    assert 'value="unread"' in body  # the button now offers the opposite
    mention.refresh_from_db()
    assert mention.read


def test_an_outside_next_address_is_ignored(owner_client, workspace, add_mentions):
    [mention] = add_mentions(("Lu", "texte"))
    url = reverse("listening:mention_triage", args=[workspace.slug, mention.id])
    response = owner_client.post(url, {"action": "hide", "next": "https://evil.example/"})
    assert response.url.startswith(stream_url(workspace))


def test_an_unknown_action_changes_nothing(owner_client, workspace, add_mentions):
    [mention] = add_mentions(("Lu", "texte"))
    url = reverse("listening:mention_triage", args=[workspace.slug, mention.id])
    assert owner_client.post(url, {"action": "delete"}).status_code == 302
    mention.refresh_from_db()
    assert not (mention.read or mention.starred or mention.hidden)


def test_bulk_actions_apply_to_the_selection_only(owner_client, workspace, add_mentions):
    one, two, three = add_mentions(("Un", "a"), ("Deux", "b"), ("Trois", "c"))
    url = reverse("listening:mention_bulk", args=[workspace.slug])
    owner_client.post(url, {"action": "star", "ids": [one.id, three.id]})
    starred = set(Mention.objects.filter(starred=True).values_list("id", flat=True))
    assert starred == {one.id, three.id}


def test_mark_all_as_read_follows_the_filter(owner_client, workspace, add_mentions, brand):
    lamp, chair = add_mentions(("Lampe", "Maison Lumière"), ("Chaise", "rotin"))
    url = reverse("listening:mention_read_all", args=[workspace.slug]) + f"?topic={brand.id}"
    response = owner_client.post(url)
    assert response.status_code == 302
    assert list(Mention.objects.filter(read=True)) == [lamp]


def test_a_viewer_reads_but_cannot_triage(client_for, make_member, workspace, add_mentions):
    [mention] = add_mentions(("Lu", "texte"))
    viewer = client_for(make_member(workspace, Role.VIEWER))
    page = viewer.get(stream_url(workspace))
    assert page.status_code == 200 and "bulk-form" not in page.content.decode()
    url = reverse("listening:mention_triage", args=[workspace.slug, mention.id])
    assert viewer.post(url, {"action": "read"}).status_code == 403


def test_the_mention_page_renders_the_sanitized_html_and_escapes_the_rest(
    owner_client, workspace, add_mentions
):
    [mention] = add_mentions(("<script>alert(1)</script>", "texte"))
    Mention.objects.filter(pk=mention.pk).update(html="<p>Du <strong>gras</strong></p>")
    response = owner_client.get(reverse("listening:mention", args=[workspace.slug, mention.id]))
    body = response.content.decode()
    assert "<strong>gras</strong>" in body
    assert "<script>alert(1)" not in body and "&lt;script&gt;" in body
    assert "No copy of this mention was seen elsewhere." in body


def read_csv(response):
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")  # spreadsheets need it to read UTF-8
    return list(csv.reader(io.StringIO(content[1:])))


def test_the_csv_export_follows_the_filter_and_defuses_formulas(
    owner_client, workspace, add_mentions, brand
):
    add_mentions(('=HYPERLINK("https://evil.example")', "Maison Lumière"), ("Chaise", "rotin"))
    response = owner_client.get(
        reverse("listening:stream_csv", args=[workspace.slug]) + f"?topic={brand.id}"
    )
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[0] == "Published" and "Topics" in header
    assert len(rows) == 1
    title = rows[0][header.index("Title")]
    assert title.startswith("'=HYPERLINK")
    assert rows[0][header.index("Topics")] == "Lumière"


def test_the_csv_columns_are_in_the_users_language(client_for, user, workspace, add_mentions):
    user.language = "fr"
    user.save()
    add_mentions(("Lampe", "texte"))
    response = client_for(user).get(reverse("listening:stream_csv", args=[workspace.slug]))
    header, *_rows = read_csv(response)
    from django.utils import translation

    with translation.override("fr"):
        expected = translation.gettext("Published")
    assert header[0] == expected


@pytest.mark.parametrize("name", ["stream", "stream_csv"])
def test_an_empty_workspace_gets_a_helpful_page(owner_client, workspace, name):
    response = owner_client.get(reverse(f"listening:{name}", args=[workspace.slug]))
    assert response.status_code == 200
    if name == "stream":
        assert "Add a source" in response.content.decode()


def test_the_page_queries_do_not_grow_with_the_number_of_mentions(
    owner_client, workspace, add_mentions, brand
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        owner_client.get(stream_url(workspace))  # session and caches warm
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(stream_url(workspace)).status_code == 200
        return len(captured)

    add_mentions(*[(f"Lampe {n}", "Maison Lumière") for n in range(2)])
    few = queries()
    add_mentions(*[(f"Lampe {n}", "Maison Lumière") for n in range(2, 30)], network="mastodon")
    assert queries() == few  # no query per mention: topics and sources are prefetched


def test_filters_by_sentiment_and_author(owner_client, workspace, add_mentions):
    angry, happy = add_mentions(
        ("Colère", "Service client catastrophique, livraison en retard, je suis très déçu."),
        ("Joie", "Merci pour cette superbe livraison, équipe adorable, je recommande !"),
    )
    assert (angry.sentiment, happy.sentiment) == ("negative", "positive")
    html = owner_client.get(stream_url(workspace, "?sentiment=negative")).content.decode()
    assert "Colère" in html and "Joie" not in html
    assert '<option value="negative" selected>' in html
    Mention.objects.filter(pk=happy.pk).update(author=None)
    author = workspace.authors.create(network="web", key="deco/jeanne", name="Jeanne Dupont")
    Mention.objects.filter(pk=angry.pk).update(author=author)
    html = owner_client.get(stream_url(workspace, f"?author={author.pk}")).content.decode()
    assert "Colère" in html and "Joie" not in html
    # The author filter is kept when other filters are applied, and named.
    assert f'name="author" value="{author.pk}"' in html and "Jeanne Dupont" in html
