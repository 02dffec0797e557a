from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tribu.listening.query import Document, Matcher, evaluate, parse, tokenize
from tribu.listening.query.ast import Not, Term
from tribu.listening.query.text import ELISIONS, words

from .strategies import documents, nodes

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def expected(queries, document):
    return sorted(topic for topic, query in queries.items() if evaluate(query, document))


@FAST
@given(st.lists(nodes, min_size=1, max_size=10), st.lists(documents, min_size=1, max_size=5))
def test_the_matcher_agrees_with_the_reference_evaluator(trees, docs):
    queries = dict(enumerate(trees))
    matcher = Matcher.build(queries)
    for document in docs:
        assert matcher.match(document) == expected(queries, document)


@FAST
@given(
    st.lists(nodes, min_size=2, max_size=8),
    st.lists(documents, min_size=1, max_size=4),
    st.data(),
)
def test_adding_and_removing_topics_keeps_the_agreement(trees, docs, data):
    queries = dict(enumerate(trees))
    matcher = Matcher.build(queries)
    for document in docs:  # fills the cache that add/remove must invalidate
        matcher.match(document)
    removed = data.draw(st.sets(st.sampled_from(sorted(queries))))
    for topic in removed:
        matcher.remove(topic)
        del queries[topic]
    replacement = data.draw(nodes)
    matcher.add(0, replacement)  # new or replacing
    queries[0] = replacement
    for document in docs:
        assert matcher.match(document) == expected(queries, document)


@FAST
@given(nodes, documents)
def test_parsed_queries_agree_through_their_text(tree, document):
    """A tree written as text and parsed back means the same, in both engines."""
    from tribu.listening.query.ast import is_positive

    if not is_positive(tree):
        return
    parsed = parse(tree.to_query())
    assert parse(parsed.to_query()).root == parsed.root
    assert evaluate(parsed, document) == evaluate(tree, document)
    assert Matcher.build({"t": parsed}).match(document) == (
        ["t"] if evaluate(tree, document) else []
    )


def doc(text="", **fields):
    return Document(text=text, **fields)


def matches(query, document):
    """Both engines, which must agree; returns the answer."""
    parsed = parse(query)
    answer = evaluate(parsed, document)
    assert Matcher.build({"q": parsed}).match(document) == (["q"] if answer else [])
    return answer


def test_words_are_case_accent_and_elision_insensitive():
    assert matches("ecole", doc("Une École à Paris"))
    assert matches("École", doc("une ecole"))
    assert matches("avion", doc("Il prend l’avion"))
    assert matches("l'avion", doc("L'AVION décolle"))
    assert matches("oeuvre", doc("Son Œuvre"))
    assert matches("tribu", doc("Tribu's new release"))
    assert not matches("lampe", doc("lampes"))


def test_and_or_not_and_adjacency():
    document = doc("lampe design en promo")
    assert matches("lampe design", document)
    assert matches("lampe AND design", document)
    assert not matches("lampe AND luminaire", document)
    assert matches("luminaire OR lampe", document)
    assert not matches("lampe NOT promo", document)
    assert not matches("lampe -promo", document)
    assert matches("lampe -soldes", document)
    assert matches("(luminaire OR lampe) AND NOT (soldes OR rabais)", document)


def test_precedence_and_binds_tighter_than_or():
    assert matches("absent OR lampe design", doc("lampe design"))
    assert not matches("absent OR lampe design", doc("lampe"))


def test_phrases_and_near():
    document = doc("La nouvelle lampe de Maison Lumière est très design")
    assert matches('"maison lumiere"', document)
    assert not matches('"lumiere maison"', document)
    assert matches("lampe NEAR/5 design", document)
    assert not matches("lampe NEAR/2 design", document)
    assert matches("design NEAR/5 lampe", document)
    assert matches("lampe ONEAR/5 design", document)
    assert not matches("design ONEAR/5 lampe", document)
    assert matches('"maison lumiere" NEAR/0 (est OR sont)', document)
    assert matches("(lampe NEAR/1 maison) NEAR/3 design", doc("lampe de maison très design"))


def test_title_and_text_do_not_run_together():
    document = doc("lumière du jour", title="Maison")
    assert matches("maison lumiere", document)
    assert not matches('"maison lumiere"', document)
    assert not matches("maison NEAR/5 lumiere", document)


def test_wildcards():
    assert matches("lumi*", doc("Lumineux !"))
    assert matches("lumi?re", doc("LUMIÈRE"))
    assert not matches("lumi?re", doc("lumineuse"))
    assert matches("lum* NEAR/1 jour", doc("la lumière du jour"))


def test_fields():
    document = doc(
        "Le texte #MaisonLumière merci @paul",
        title="Grande lampe",
        author="Jeanne Martin @jeanne@mastodon.social",
        url="https://www.lemonde.fr/article",
        lang="fr-FR",
        source="Le Monde",
        network="web",
    )
    assert matches("title:lampe", document)
    assert not matches("title:texte", document)
    assert matches('title:"grande lampe"', document)
    assert matches("title:(lampe OR luminaire)", document)
    assert matches("author:jeanne", document)
    assert matches("source:monde", document)
    assert matches("site:lemonde.fr", document)
    assert matches("site:www.lemonde.fr", document)
    assert not matches("site:monde.fr", document)
    assert not matches("site:example.com", document)
    assert matches("lang:fr", document)
    assert not matches("lang:en", document)
    assert matches("network:web", document)
    assert matches("#maisonlumiere", document)
    assert matches("maisonlumiere", document)  # a hashtag is also its word
    assert not matches("#texte", document)
    assert matches("@paul", document)
    assert matches("@jeanne", document)  # the author, on any instance
    assert matches("@jeanne@mastodon.social", document)
    assert not matches("@jeanne@other.social", document)


def test_subdomains_match_but_lookalike_domains_do_not():
    assert matches("site:lemonde.fr", doc("x", url="https://blog.lemonde.fr/a"))
    assert not matches("site:lemonde.fr", doc("x", url="https://lemonde.fr.evil.example/a"))


def test_topics_without_anchor_are_still_checked():
    matcher = Matcher.build({"only-not": Not(Term("text", "promo")), "lampe": parse("lampe")})
    assert matcher.match(doc("lampe")) == ["lampe", "only-not"]
    assert matcher.match(doc("promo")) == []


def test_one_mention_matches_several_topics_and_replacement_and_removal():
    matcher = Matcher.build({"a": parse("lampe"), "b": parse('"lampe design"'), "c": parse("x")})
    assert matcher.match(doc("lampe design")) == ["a", "b"]
    matcher.add("c", parse("design*"))
    assert matcher.match(doc("lampe design")) == ["a", "b", "c"]
    matcher.remove("a")
    assert "a" not in matcher and len(matcher) == 2
    assert matcher.match(doc("lampe design")) == ["b", "c"]
    matcher.remove("c")
    assert matcher.match(doc("designer")) == []


def test_strings_are_parsed_on_add():
    matcher = Matcher()
    matcher.add(1, "lampe OR luminaire")
    assert matcher.match(doc("Un luminaire")) == [1]


# The matcher reads Latin-1 text by a fast path (matcher._scan, matcher._stream) that must
# give the words of `tokenize`: texts over every Latin-1 character and a few others.
latin1_texts = st.lists(
    st.one_of(
        st.characters(max_codepoint=255),
        st.sampled_from(["l'", "qu'", " #", "@", ".", "-", "’", "œ", "ß", "\u0301", "…"]),
        st.sampled_from(["lampe", "ecole", "Lumière", "avion", "l", "s", "c"]),
    ),
    max_size=40,
).map("".join)


@FAST
@given(latin1_texts)
def test_the_fast_word_stream_equals_tokenize(text):
    from tribu.listening.query.matcher import _stream
    from tribu.listening.query.text import words

    assert _stream(text) == words(tokenize(text))


@FAST
@given(st.lists(nodes, min_size=1, max_size=6), latin1_texts, latin1_texts)
def test_the_matcher_agrees_on_any_latin1_text(trees, text, title):
    queries = dict(enumerate(trees))
    document = Document(text=text, title=title)
    assert Matcher.build(queries).match(document) == expected(queries, document)


def test_a_topic_on_an_elision_matches_only_a_hashtag_of_it():
    """Hand-built trees may test "l", which tokenize drops but keeps as a hashtag's word."""
    matcher = Matcher.build({"l": Term("text", "l"), "t": Term("title", "l")})
    assert matcher.match(doc("l'avion", title="l'avion")) == []
    assert matcher.match(doc("l'avion #l")) == ["l"]
    assert matcher.match(doc("", title="#l")) == ["l", "t"]


# Typographic characters beyond Latin-1 (French news: ’ “ ” « » … — and thin spaces) and
# Latin Extended letters also take the fast path, replaced by what `fold` makes of them.
wide_texts = st.lists(
    st.one_of(
        st.characters(min_codepoint=0x2000, max_codepoint=0x206F),
        st.characters(min_codepoint=0x20A0, max_codepoint=0x214F),
        st.characters(min_codepoint=0x0100, max_codepoint=0x024F),
        st.characters(min_codepoint=0x1E00, max_codepoint=0x1EFF),
        st.sampled_from(["’", "‘", "“", "”", "«", "»", "…", "—", "–", "\u202f", "\u2009", "€"]),
        st.sampled_from(["#", "@", ".", "-", "'", " ", "l", "qu", "#l", "@jeanne", "\u0301"]),
        st.sampled_from(["lampe", "École", "Lumière", "avion", "œuvre", "Łódź", "™", "ß"]),
    ),
    max_size=40,
).map("".join)


@FAST
@given(wide_texts)
def test_the_fast_word_stream_equals_tokenize_beyond_latin1(text):
    from tribu.listening.query.matcher import _scan, _stream
    from tribu.listening.query.text import words

    expected_words = words(tokenize(text))
    assert _stream(text) == expected_words
    scanned, marks, clean = _scan(text)
    if not clean:  # the fast path: elisions still among the words
        scanned = [word for word in scanned if word not in ELISIONS]
    assert scanned == expected_words
    assert list(marks) == [token for token in tokenize(text) if token[0] in "#@"]


@FAST
@given(st.lists(nodes, min_size=1, max_size=6), wide_texts, wide_texts)
def test_the_matcher_agrees_on_typographic_text(trees, text, title):
    queries = dict(enumerate(trees))
    document = Document(text=text, title=title, author=title)
    assert Matcher.build(queries).match(document) == expected(queries, document)


def test_french_typography_takes_the_fast_path():
    from tribu.listening.query.matcher import _scan

    text = "L’École « Lumière » — enfin… 12\u202f€, #Œuvre d’été @jeanne.bsky.social"
    scanned, marks, clean = _scan(text)
    assert not clean  # the exact path would give clean (elision-free) tokens
    assert [word for word in scanned if word not in ELISIONS] == words(tokenize(text))
    assert marks == ["#oeuvre", "@jeanne.bsky.social"]
    assert matches('"ecole lumiere"', doc(text))
    assert matches("oeuvre NEAR/1 ete", doc(text))
