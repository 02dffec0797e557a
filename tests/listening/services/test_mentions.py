"""tribu.listening.services.mentions: stream filters, cursor pagination, triage, CSV."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention, MentionTopic, Source, Topic
from tribu.listening.services import mentions
from tribu.listening.services.ingest import ingest, ingest_items
from tribu.listening.services.mentions import StreamFilters, page, stream

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def item(n, **fields):
    values = {
        "url": f"https://site.example/{n}",
        "title": f"Mention {n}",
        "text": f"Texte {n}",
        "published_at": T0 - timedelta(days=n),
    }
    values.update(fields)
    return ParsedItem(**values)


@pytest.fixture
def feed(workspace):
    return Source.objects.create(workspace=workspace, url="https://site.example/feed")


def titles(queryset):
    return [m.title for m in queryset]


def test_stream_is_newest_first_and_hides_hidden_mentions(workspace):
    ingest_items(workspace.pk, [item(2), item(0), item(1)])
    Mention.objects.filter(title="Mention 1").update(hidden=True)
    assert titles(stream(workspace)) == ["Mention 0", "Mention 2"]
    assert titles(stream(workspace, StreamFilters(hidden=True))) == ["Mention 1"]
    assert len(stream(workspace, StreamFilters(hidden=None))) == 3


def test_filters(workspace, feed):
    ingest(feed, [item(0, network="web")])
    ingest_items(workspace.pk, [item(1, network="mastodon"), item(2, network="mastodon")])
    Mention.objects.filter(title="Mention 2").update(lang="en", read=True, starred=True)
    assert titles(stream(workspace, StreamFilters(source=feed.pk))) == ["Mention 0"]
    assert titles(stream(workspace, StreamFilters(network="mastodon"))) == [
        "Mention 1",
        "Mention 2",
    ]
    assert titles(stream(workspace, StreamFilters(lang="en"))) == ["Mention 2"]
    assert titles(stream(workspace, StreamFilters(read=False))) == ["Mention 0", "Mention 1"]
    assert titles(stream(workspace, StreamFilters(read=True))) == ["Mention 2"]
    assert titles(stream(workspace, StreamFilters(starred=True))) == ["Mention 2"]


def test_topic_filter_reads_the_links_of_this_workspace(workspace, make_workspace):
    ingest_items(workspace.pk, [item(0), item(1)])
    topic = Topic.objects.create(workspace=workspace, name="T", query="x")
    mention = Mention.objects.get(title="Mention 1")
    MentionTopic.objects.create(
        mention=mention, topic=topic, workspace=workspace,
        published_at=mention.published_at, sort_key=mention.sort_key,
    )  # fmt: skip
    assert titles(stream(workspace, StreamFilters(topic=topic.pk))) == ["Mention 1"]
    other = make_workspace()
    assert titles(stream(other, StreamFilters(topic=topic.pk))) == []


def test_date_range_is_inclusive_in_the_workspace_time_zone(workspace):
    # Europe/Paris: 2025-03-09 23:30 UTC is already 2025-03-10 locally.
    ingest_items(
        workspace.pk,
        [
            item(1, published_at=datetime(2025, 3, 9, 22, 59, tzinfo=UTC)),
            item(2, published_at=datetime(2025, 3, 9, 23, 30, tzinfo=UTC)),
            item(3, published_at=datetime(2025, 3, 10, 22, 59, tzinfo=UTC)),
            item(4, published_at=datetime(2025, 3, 10, 23, 1, tzinfo=UTC)),
        ],
    )
    day = date(2025, 3, 10)
    assert titles(stream(workspace, StreamFilters(since=day, until=day))) == [
        "Mention 3",
        "Mention 2",
    ]
    moment = datetime(2025, 3, 10, 22, 59, tzinfo=UTC)
    assert titles(stream(workspace, StreamFilters(until=moment)))[0] == "Mention 3"


def test_filters_from_query_parameters_ignore_garbage():
    filters = StreamFilters.from_params(
        {"topic": "12", "source": "x", "since": "2025-02-30", "until": "2025-03-01",
         "read": "0", "starred": "1", "hidden": "all", "q": " lumière ", "order": "drop"}
    )  # fmt: skip
    assert filters == StreamFilters(
        topic=12, until=date(2025, 3, 1), read=False, starred=True, hidden=None, q="lumière"
    )
    assert StreamFilters.from_params(filters.as_params()) == filters
    assert StreamFilters.from_params({}) == StreamFilters()


def test_keyset_pages_walk_the_stream_without_gaps_or_repeats(workspace):
    ingest_items(workspace.pk, [item(n, published_at=T0) for n in range(7)])
    seen, cursor = [], None
    while True:
        items, cursor = page(stream(workspace), cursor, size=3)
        seen += [m.pk for m in items]
        if cursor is None:
            break
        # A newer mention arriving between pages does not shift the next page.
        ingest_items(workspace.pk, [item(100 + len(seen), published_at=T0 + timedelta(days=1))])
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, key=lambda pk: -Mention.objects.get(pk=pk).sort_key)


def test_relevance_pages_use_offsets(workspace):
    ingest_items(workspace.pk, [item(n, text=f"lumière {n}") for n in range(5)])
    queryset = stream(workspace, StreamFilters(q="lumiere", order="relevance"))
    first, cursor = page(queryset, None, size=3)
    second, last = page(queryset, cursor, size=3)
    assert cursor == "o:3" and last is None
    assert len({m.pk for m in first + second}) == 5


def test_bad_cursor_starts_from_the_top(workspace):
    ingest_items(workspace.pk, [item(0)])
    assert len(page(stream(workspace), "k:nope")[0]) == 1
    assert len(page(stream(workspace), "garbage")[0]) == 1


def test_flags_only_touch_this_workspace(workspace, make_workspace):
    other = make_workspace()
    ingest_items(workspace.pk, [item(0), item(1)])
    ingest_items(other.pk, [item(0)])
    theirs = Mention.objects.get(workspace=other)
    mine = list(Mention.objects.filter(workspace=workspace).values_list("pk", flat=True))
    assert mentions.set_flag(workspace, [*mine, theirs.pk, "junk"], "read") == 2
    assert mentions.set_flag(workspace, mine, "read") == 0  # already read
    theirs.refresh_from_db()
    assert not theirs.read
    assert mentions.set_flag(workspace, mine[:1], "starred") == 1
    with pytest.raises(ValueError):
        mentions.set_flag(workspace, mine, "workspace")


def test_mark_a_whole_filtered_stream(workspace):
    ingest_items(workspace.pk, [item(0, network="reddit"), item(1), item(2)])
    assert mentions.set_flag_for_stream(workspace, StreamFilters(network="web"), "read") == 2
    assert Mention.objects.filter(read=True).count() == 2


def test_csv_rows(workspace):
    ingest_items(workspace.pk, [item(0, title="=HYPERLINK(1)", author_name="Jeanne")])
    topic = Topic.objects.create(workspace=workspace, name="Marque", query="x")
    mention = Mention.objects.get()
    MentionTopic.objects.create(
        mention=mention, topic=topic, workspace=workspace,
        published_at=mention.published_at, sort_key=mention.sort_key,
    )  # fmt: skip
    header, row = list(mentions.csv_rows(workspace))
    assert header[0] == "Published" and len(header) == len(row)
    assert row[0] == "2025-03-10T13:00:00+01:00"  # the workspace's time zone
    assert row[5] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert row[3] == "Jeanne" and row[8] == "Marque"
    assert header[10] == "Sentiment" and row[10] == mention.get_sentiment_display() != ""


def test_mark_a_whole_searched_stream(workspace):
    ingest_items(workspace.pk, [item(0, text="lumière"), item(1, text="bougie"), item(2)])
    filters = StreamFilters(q="lumiere")
    assert mentions.set_flag_for_stream(workspace, filters, "read") == 1
    assert list(Mention.objects.filter(read=True).values_list("text", flat=True)) == ["lumière"]


@pytest.mark.parametrize("q", ["", "texte"])
def test_keyset_pages_with_topic_and_search(workspace, q):
    ingest_items(workspace.pk, [item(n, published_at=T0 - timedelta(hours=n)) for n in range(7)])
    topic = Topic.objects.create(workspace=workspace, name="T", query="x")
    for mention in Mention.objects.exclude(title="Mention 3"):
        MentionTopic.objects.create(
            mention=mention, topic=topic, workspace=workspace,
            published_at=mention.published_at, sort_key=mention.sort_key,
        )  # fmt: skip
    seen, cursor = [], None
    while True:
        items, cursor = page(stream(workspace, StreamFilters(topic=topic.pk, q=q)), cursor, 2)
        seen += [m.title for m in items]
        if cursor is None:
            break
    assert seen == [f"Mention {n}" for n in (0, 1, 2, 4, 5, 6)]
