"""tribu.listening.search: accent-insensitive, stemmed full-text search on both databases."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from tribu.listening import search
from tribu.listening.items import ParsedItem
from tribu.listening.services.ingest import ingest_items
from tribu.listening.services.mentions import StreamFilters, stream

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

TEXTS = {
    "horses": ("Camargue", "Les chevaux blancs galopent dans les marais au lever du jour."),
    "school": ("École de la Lumière", "Une nouvelle école ouvre ses portes à Lyon en septembre."),
    "runner": ("Morning run", "She was running along the river before work, as usual."),
    "phrase": ("Livraison", "La livraison rapide de Maison Lumière est arrivée hier soir."),
    "reverse": ("Avis", "Lumière maison: une rapide livraison, des clients contents."),
    "plane": ("Voyage", "J'ai pris l'avion pour Montréal avec toute la famille."),
}


@pytest.fixture
def indexed(workspace):
    items = [
        ParsedItem(
            url=f"https://site.example/{key}",
            title=title,
            text=text,
            published_at=T0 + timedelta(hours=index),
        )
        for index, (key, (title, text)) in enumerate(TEXTS.items())
    ]
    ingest_items(workspace.pk, items)
    return workspace


def found(workspace, q, **filters):
    return {m.url.rsplit("/", 1)[1] for m in stream(workspace, StreamFilters(q=q, **filters))}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("chevaux", {"horses"}),
        ("cheval", {"horses"}),  # French stemming
        ("run", {"runner"}),  # English stemming
        ("running", {"runner"}),
        ("ecole", {"school"}),  # accents do not matter
        ("ÉCOLE lyon", {"school"}),  # every word is required
        ("ecole montreal", set()),
        ('"livraison rapide"', {"phrase"}),  # a phrase keeps its order
        ("livraison rapide", {"phrase", "reverse"}),
        ("lumi*", {"school", "phrase", "reverse"}),  # prefix
        ("avion", {"plane"}),  # elision split
        ("l'avion", {"plane"}),
        ("montreal", {"plane"}),
    ],
)
def test_search(indexed, q, expected):
    assert found(indexed, q) == expected


@pytest.mark.parametrize(
    "q",
    ['"', '"""', "*", "NEAR(", "NEAR(a b)", "-", ":", "title:", "a OR", "AND", "(", ")", "^", "'",
     "\\", "%", "_", "{title body}:x", "lumi* *", '"unterminated phrase', "\x00"],
)  # fmt: skip
def test_hostile_input_never_raises(indexed, q):
    found(indexed, q)  # no database error
    found(indexed, q, order="relevance")


def test_operators_are_plain_words(indexed):
    assert found(indexed, "NEAR(chevaux") == set()  # "near" is a required word here
    assert found(indexed, "-chevaux") == {"horses"}  # no exclusion in the search box


def test_empty_search_returns_the_filtered_stream(indexed):
    assert len(found(indexed, "")) == len(TEXTS)
    assert len(found(indexed, '" * -')) == len(TEXTS)


def test_search_stays_in_its_workspace(indexed, make_workspace):
    other = make_workspace()
    ingest_items(other.pk, [ParsedItem(url="https://x.example/1", text="Chevaux encore")])
    assert found(indexed, "chevaux") == {"horses"}
    assert found(other, "chevaux") == {"1"}


def test_newest_first_and_relevance_orders(workspace):
    ingest_items(
        workspace.pk,
        [
            ParsedItem(url="https://a.example/old", title="Lumière", text="lumière lumière",
                       published_at=T0),
            ParsedItem(url="https://a.example/new", title="Autre", text="un peu de lumière",
                       published_at=T0 + timedelta(days=1)),
        ],
    )  # fmt: skip
    newest = [m.url for m in stream(workspace, StreamFilters(q="lumiere"))]
    relevant = [m.url for m in stream(workspace, StreamFilters(q="lumiere", order="relevance"))]
    assert newest == ["https://a.example/new", "https://a.example/old"]
    assert relevant == ["https://a.example/old", "https://a.example/new"]


def test_language_chooses_the_stemmer(workspace):
    ingest_items(workspace.pk, [ParsedItem(url="https://a.example/1", text="running shoes")])
    from tribu.listening.models import Mention

    mention = Mention.objects.get()
    assert set(search.stems_for("", "running shoes", "en").split()) == {"run", "shoe"}
    assert "cheval" in search.stems_for("", "chevaux", "fr").split()
    assert "cheval" in search.stems_for("", "chevaux", "").split()  # both when unknown
    assert "cheval" not in search.stems_for("", "chevaux", "en").split()
    assert mention.lang == "en"  # detected at ingestion, before the row is indexed
    assert list(stream(workspace, StreamFilters(q="run"))) == [mention]


def test_parse_reduces_input_to_quoted_words():
    assert search.parse('Éco* "la Lumière" l\'avion -x :') == [
        search.Term("prefix", ("eco",)),
        search.Term("phrase", ("la", "lumiere")),
        search.Term("phrase", ("l", "avion")),
        search.Term("word", ("x",)),
    ]
    assert len(search.parse(" ".join(f"w{n}" for n in range(100)))) == search.MAX_TERMS


def test_unindexed_mentions_are_no_longer_found(indexed):
    from tribu.listening.models import Mention

    if search.vendor() != "sqlite":
        pytest.skip("PostgreSQL indexes each row itself, with a trigger")
    horses = Mention.objects.get(url="https://site.example/horses")
    search.unindex_mentions([horses])
    assert found(indexed, "chevaux") == set()
    assert found(indexed, "marais") == set()


def test_relevance_ranks_only_the_newest_candidates(workspace, monkeypatch):
    monkeypatch.setattr(search, "RELEVANCE_CANDIDATES", 2)
    ingest_items(
        workspace.pk,
        [
            ParsedItem(url="https://a.example/oldest", title="Lumière", text="lumière lumière",
                       published_at=T0),
            ParsedItem(url="https://a.example/middle", title="Autre", text="un peu de lumière",
                       published_at=T0 + timedelta(days=1)),
            ParsedItem(url="https://a.example/newest", title="Lumière", text="la lumière",
                       published_at=T0 + timedelta(days=2)),
        ],
    )  # fmt: skip
    relevant = [m.url for m in stream(workspace, StreamFilters(q="lumiere", order="relevance"))]
    # The oldest (the best match) is past the newest two candidates: left out, and the
    # two newest are ranked between themselves.
    assert relevant == ["https://a.example/newest", "https://a.example/middle"]


# Prefix searches: SQLite expands a prefix into an OR of the indexed words it starts
# (search.prefix_expansions); the rows and their order must equal FTS5's own prefix query,
# which PREFIX_EXPANSION_LIMIT = 0 forces (it is also the fallback past the limit).

PREFIX_TEXT = (
    "lumière lumières luminaire lumina1 lumina12 lumina2 Lumina30 lumen livraison livrer livre "
    "livres recommande recommandé recommandation électrique élection électeur école écoles "
    "éclat chevaux cheval chevalier l'avion l'électricité aujourd'hui e-mail Straße ﬁnance "
    "½ cœur œuvre İstanbul naïve nai\u0308ve 東京 café caf\u00e9s 42 4x4 x2 the delivery "
    "delivered deliver running runner"
)
PREFIX_VOCABULARY = PREFIX_TEXT.split()


@pytest.fixture
def prefix_corpus(workspace, make_workspace):
    rng = random.Random(5)
    other = make_workspace()
    for ws, count in ((workspace, 90), (other, 20)):
        items = [
            ParsedItem(
                url=f"https://p.example/{ws.slug}/{n}",
                title=" ".join(rng.choices(PREFIX_VOCABULARY, k=3)),
                text=" ".join(rng.choices(PREFIX_VOCABULARY, k=12)),
                published_at=T0 + timedelta(minutes=rng.randrange(100_000)),
            )
            for n in range(count)
        ]
        ingest_items(ws.pk, items)
    return workspace


def ordered(workspace, q, **filters):
    return [m.pk for m in stream(workspace, StreamFilters(q=q, **filters))]


def test_prefix_search_equals_the_fts_prefix_query(prefix_corpus, monkeypatch):
    folded = {word for text in PREFIX_VOCABULARY for word in search.words(text)}
    prefixes = sorted({word[:n] for word in folded for n in (1, 2, 3, 5)} | folded)
    queries = [f"{p}*" for p in prefixes] + ["lumi* livr*", "cheval lumina1*", "zzz*", "ecol* 42"]
    expanded = {q: ordered(prefix_corpus, q) for q in queries}
    relevant = {q: ordered(prefix_corpus, q, order="relevance") for q in queries[:20]}
    monkeypatch.setattr(search, "PREFIX_EXPANSION_LIMIT", 0)  # FTS5's prefix query only
    for q in queries:
        assert expanded[q] == ordered(prefix_corpus, q), q
    for q, ids in relevant.items():
        assert ids == ordered(prefix_corpus, q, order="relevance"), q
    assert any(expanded.values())


def test_prefix_is_expanded_into_indexed_words(prefix_corpus, monkeypatch):
    if search.vendor() != "sqlite":
        pytest.skip("PostgreSQL keeps tsquery prefix matching")
    terms = search.parse("Lumina* ecol* zzz* cœ*")
    assert search.prefix_expansions(terms) == {
        "lumina": ["lumina1", "lumina12", "lumina2", "lumina30", "luminaire"],
        "ecol": ["ecole", "ecoles"],
        # "zzz": no word, and "cœ": not ASCII, are left to FTS5's prefix query.
    }
    expanded = ordered(prefix_corpus, "lumina* ecol*")
    monkeypatch.setattr(search, "PREFIX_EXPANSION_LIMIT", 3)  # past it: FTS5 again
    assert search.prefix_expansions(terms) == {"ecol": ["ecole", "ecoles"]}
    assert expanded and ordered(prefix_corpus, "lumina* ecol*") == expanded


def _fts_vocabulary():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE VIRTUAL TABLE temp.test_fts_vocab "
            f"USING fts5vocab(main, {search.FTS_TABLE}, col)"
        )
        cursor.execute(
            "SELECT DISTINCT term FROM temp.test_fts_vocab WHERE col IN ('title', 'body')"
        )
        terms = {row[0] for row in cursor.fetchall()}
        cursor.execute("DROP TABLE temp.test_fts_vocab")
    return terms


def _words():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT word FROM {search.WORD_TABLE}")  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


def test_vocabulary_holds_every_indexed_word_as_fts5_reads_it(prefix_corpus):
    if search.vendor() != "sqlite":
        pytest.skip("SQLite only")
    indexed = _fts_vocabulary()
    # FTS5 and Python disagree on some words (ß, ligatures, ½): the vocabulary follows FTS5.
    assert {"straße", "ﬁnance", "½", "東京", "lumina30"} <= indexed
    assert _words() == indexed


def test_rebuild_words_refills_the_vocabulary_from_the_index(prefix_corpus):
    from django.db import connection

    if search.vendor() != "sqlite":
        pytest.skip("SQLite only")
    words = _words()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {search.WORD_TABLE}")  # noqa: S608
    search.rebuild_words()
    assert _words() == words
