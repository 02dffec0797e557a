"""tribu.listening.services.ingest: dedupe, near-duplicate grouping, matching, indexing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention, MentionCopy, MentionTopic, Source, Topic
from tribu.listening.services import ingest as ingest_service
from tribu.listening.services import mentions, topics
from tribu.listening.services.ingest import ingest, ingest_items

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def item(n=0, **fields):
    values = {
        "url": f"https://blog.example/post-{n}",
        "guid": f"guid-{n}",
        "title": f"Article numéro {n}",
        "text": (
            f"Le texte original de l'article {n}, avec assez de mots pour compter : "
            "un article de blog en compte bien plus que vingt, comme celui-ci."
        ),
        "author_name": "Jeanne",
        "published_at": T0 + timedelta(minutes=n),
    }
    values.update(fields)
    return ParsedItem(**values)


@pytest.fixture
def source(workspace):
    return Source.objects.create(workspace=workspace, kind="feed", url="https://blog.example/feed")


def test_new_items_are_stored_with_their_fields(source):
    report = ingest(source, [item(1, author_handle="@jeanne", html="<p>x</p>")])
    assert (report.created, report.duplicates, report.grouped) == (1, 0, 0)
    mention = Mention.objects.get()
    assert mention.workspace_id == source.workspace_id
    assert mention.source == source
    assert mention.canonical_url == "https://blog.example/post-1"
    assert mention.title == "Article numéro 1"
    assert mention.published_at == T0 + timedelta(minutes=1)
    assert mention.lang == "fr"
    assert report.mention_ids == [mention.pk]


def test_polling_the_same_items_again_stores_nothing(source):
    ingest(source, [item(1), item(2)])
    report = ingest(source, [item(1), item(2), item(3)])
    assert (report.created, report.duplicates) == (1, 2)
    assert Mention.objects.count() == 3


def test_same_canonical_url_is_a_duplicate_even_from_another_source(workspace, source):
    other = Source.objects.create(workspace=workspace, url="https://alerts.example/feed")
    ingest(source, [item(1)])
    tracked = item(
        1, url="https://BLOG.example/post-1?utm_source=alerts#top", guid="x", text="Autre"
    )
    report = ingest(other, [tracked])
    assert (report.created, report.duplicates) == (0, 1)


def test_same_guid_from_the_same_source_is_a_duplicate(source):
    ingest(source, [item(1)])
    moved = item(1, url="https://blog.example/new-address", text="Texte corrigé entre-temps")
    report = ingest(source, [moved])
    assert (report.created, report.duplicates) == (0, 1)


def test_same_guid_from_another_source_is_not_a_duplicate(workspace, source):
    other = Source.objects.create(workspace=workspace, url="https://other.example/feed")
    ingest(source, [item(1)])
    report = ingest(other, [item(2, guid="guid-1")])
    assert report.created == 1


def test_same_content_without_address_is_a_duplicate(source):
    ingest(source, [item(1, url="", guid="")])
    report = ingest(source, [item(1, url="", guid="")])
    assert (report.created, report.duplicates, report.grouped) == (0, 1, 0)


def test_duplicates_inside_one_batch_are_stored_once(source):
    report = ingest(source, [item(1), item(1), item(1, guid="other")])
    assert (report.created, report.duplicates) == (1, 2)


def test_duplicates_are_per_workspace(make_workspace, source):
    elsewhere = make_workspace()
    other = Source.objects.create(workspace=elsewhere, url="https://blog.example/feed")
    ingest(source, [item(1)])
    assert ingest(other, [item(1)]).created == 1


def test_syndicated_copy_is_grouped_under_the_first_mention(workspace, source):
    mirror = Source.objects.create(workspace=workspace, url="https://mirror.example/feed")
    ingest(source, [item(1)])
    copy = item(
        1,
        url="https://mirror.example/repost",
        guid="m-1",
        author_name="Mirror",
        text=item(1).text + " Lire la suite sur https://mirror.example",
    )
    report = ingest(mirror, [copy])
    assert (report.created, report.grouped) == (0, 1)
    mention = Mention.objects.get()
    assert mention.also_seen == 1
    stored = MentionCopy.objects.get()
    assert (stored.mention, stored.source, stored.url) == (
        mention,
        mirror,
        "https://mirror.example/repost",
    )
    # Seeing the same copy again records nothing more.
    report = ingest(mirror, [copy])
    assert (report.grouped, report.duplicates) == (0, 1)
    assert Mention.objects.get().also_seen == 1


def test_boosts_in_one_batch_group_under_the_first(source):
    text = "Maison Lumière ouvre une boutique à Lyon samedi prochain"
    boosts = [
        item(1, url="https://masto.example/@a/1", guid="1", text=text, author_handle="@a"),
        item(
            2, url="https://masto.example/@b/2", guid="2", text=f"RT @a: {text}", author_handle="@b"
        ),
        item(
            3,
            url="https://masto.example/@c/3",
            guid="3",
            text=f"{text} https://t.co/x",
            author_handle="@c",
        ),
    ]
    report = ingest(source, boosts)
    assert (report.created, report.grouped) == (1, 2)
    assert Mention.objects.get().also_seen == 2


def test_future_dates_are_read_as_now(source):
    now = timezone.now()
    ingest(source, [item(1, published_at=now + timedelta(days=365))], now=now)
    assert Mention.objects.get().published_at == now


def test_missing_dates_are_the_fetch_time(source):
    now = timezone.now()
    ingest(source, [item(1, published_at=None)], now=now)
    assert Mention.objects.get().published_at == now


def test_same_publication_time_gets_distinct_increasing_sort_keys(source):
    batch = [item(n, published_at=T0) for n in range(5)]
    ingest(source, batch[:2])
    ingest(source, batch[2:])
    keys = sorted(Mention.objects.values_list("sort_key", flat=True))
    assert len(set(keys)) == 5
    assert keys[0] == int(T0.timestamp()) * 1_000_000
    assert keys[-1] - keys[0] == 4


def test_no_query_runs_per_item(source):
    with CaptureQueriesContext(connection) as queries:
        ingest(source, [item(n) for n in range(200)])
    # Lookups, sort keys, the bulk inserts (chunked by the driver's parameter limit), the
    # topics version, the authors' upsert and ids, one upsert per aggregate table; the
    # SQLite index rows go in one executemany.
    assert len(queries.captured_queries) < 30
    with CaptureQueriesContext(connection) as queries:
        ingest(source, [item(n) for n in range(200, 600)])
    assert len(queries.captured_queries) < 30


def test_large_inputs_are_split_in_batches(source, monkeypatch):
    monkeypatch.setattr(ingest_service, "BATCH", 7)
    report = ingest(source, [item(n) for n in range(20)] + [item(3)])
    assert (report.created, report.duplicates) == (20, 1)


def test_ingest_without_source_for_demo_data(workspace):
    report = ingest_items(workspace.pk, [item(1), item(2)])
    assert report.created == 2
    assert set(Mention.objects.values_list("source", flat=True)) == {None}


def test_new_mentions_are_searchable_at_once(workspace, source):
    ingest(source, [item(1, text="Les chevaux de la Camargue galopent librement ici")])
    found = mentions.stream(workspace, mentions.StreamFilters(q="cheval"))
    assert [m.title for m in found] == ["Article numéro 1"]


# Language and sentiment ------------------------------------------------------------------


def test_language_and_fast_sentiment_are_stored_for_french_and_english(source):
    ingest(
        source,
        [
            item(1, title="Service client", text="Je suis vraiment très déçu, c'est nul et lent."),
            item(2, title="Great shop", text="I absolutely love this shop, excellent service!"),
        ],
    )
    french, english = Mention.objects.order_by("sort_key")
    assert (french.lang, english.lang) == ("fr", "en")
    assert french.lang_confidence > 0.5 and english.lang_confidence > 0.5
    assert (french.sentiment, english.sentiment) == ("negative", "positive")
    assert 0 < french.sentiment_score <= 1 and 0 < english.sentiment_score <= 1
    assert {french.sentiment_tier, english.sentiment_tier} == {"fast"}


def test_tiny_text_is_undetermined_with_unknown_sentiment(source):
    ingest(source, [item(1, title="", text="ok 👍")])
    mention = Mention.objects.get()
    assert (mention.lang, mention.sentiment, mention.sentiment_score) == ("und", "unknown", None)


def test_other_languages_get_unknown_sentiment_not_a_guess(source):
    text = "Das neue Geschäft in der Innenstadt ist wirklich wunderbar und sehr freundlich."
    ingest(source, [item(1, title="", text=text)])
    mention = Mention.objects.get()
    assert (mention.lang, mention.sentiment, mention.sentiment_score) == ("de", "unknown", None)


def test_duplicates_are_not_analysed_again(source):
    ingest(source, [item(1)])
    Mention.objects.update(sentiment="positive", sentiment_tier="accurate")
    report = ingest(source, [item(1), item(2)])
    assert (report.created, report.duplicates) == (1, 1)
    first = Mention.objects.get(guid="guid-1")
    assert (first.sentiment, first.sentiment_tier) == ("positive", "accurate")


def test_french_mentions_are_found_by_stemmed_and_unaccented_words(workspace, source):
    ingest(source, [item(1, title="", text="Les élèves réclamaient des réponses précises.")])
    assert Mention.objects.get().lang == "fr"
    for q in ("eleve", "réclamer", "reponse", "précise"):
        found = mentions.stream(workspace, mentions.StreamFilters(q=q))
        assert found.count() == 1, q


# Matching (needs the query language's Matcher) ------------------------------------------


def test_mentions_are_linked_to_matching_topics_of_their_workspace_only(
    workspace, make_workspace, source
):
    pytest.importorskip("tribu.listening.query.matcher")
    elsewhere = make_workspace()
    mine = Topic.objects.create(workspace=workspace, name="Lumière", query="lumiere")
    Topic.objects.create(workspace=elsewhere, name="Lumière", query="lumiere")
    other = Topic.objects.create(workspace=workspace, name="Autre", query="bougie")
    report = ingest(source, [item(1, text="La Maison Lumière innove encore cette année")])
    assert report.matched == 1
    link = MentionTopic.objects.get()
    assert (link.topic, link.workspace) == (mine, workspace)
    assert link.sort_key == Mention.objects.get().sort_key
    assert other.mention_links.count() == 0


def test_the_matcher_is_rebuilt_when_topics_change(workspace, source):
    pytest.importorskip("tribu.listening.query.matcher")
    first = topics.current_matcher()
    assert topics.current_matcher() is first
    Topic.objects.create(workspace=workspace, name="Bougie", query="bougie")
    rebuilt = topics.current_matcher()
    assert rebuilt is not first
    report = ingest(source, [item(1, text="Une bougie parfumée vraiment réussie")])
    assert report.matched == 1
