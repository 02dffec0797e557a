"""Hypothesis strategies: query trees and documents over one small vocabulary, so that
generated queries actually match generated documents (accents, elisions, hashtags,
handles, urls, languages)."""

from hypothesis import strategies as st

from tribu.listening.query import Document
from tribu.listening.query.ast import And, Near, Not, Or, Phrase, Term, Value, Wildcard

# Folded words, as queries hold them, and the many ways documents write them.
WORDS = ["lampe", "lumiere", "maison", "avion", "ecole", "design", "promo", "oeuvre", "il", "the"]
SPELLINGS = [
    "lampe",
    "Lampe",
    "LAMPES",
    "lumière",
    "Lumiere",
    "LUMIÈRE",
    "maison",
    "Maison",
    "l'avion",
    "L’avion",
    "avion",
    "école",
    "Ecole",
    "design",
    "promo",
    "Promo",
    "œuvre",
    "oeuvre",
    "qu'il",
    "il",
    "the",
    "brand's",
    "#MaisonLumière",
    "#lampe",
    "@jeanne",
    "@jeanne@mastodon.social",
    "@paul",
    ",",
    ".",
    "!",
    "d'école",
    "lumineux",
    "maisons",
    "écoles",
]
PATTERNS = ["lum*", "lamp*", "mai?on", "avi*", "ec?le", "des*", "pro?o", "oeu*"]
TEXT_FIELDS = ["text", "text", "title", "author", "source"]

terms = st.builds(Term, st.sampled_from(TEXT_FIELDS), st.sampled_from(WORDS))


def text_leaf(field):
    return st.one_of(
        st.sampled_from(WORDS).map(lambda word: Term(field, word)),
        st.lists(st.sampled_from(WORDS), min_size=2, max_size=3).map(
            lambda words: Phrase(field, tuple(words))
        ),
        st.sampled_from(PATTERNS).map(lambda pattern: Wildcard(field, pattern)),
    )


def span_nodes(field):
    return st.recursive(
        text_leaf(field),
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda c: Or(tuple(c))),
            st.builds(Near, inner, inner, st.integers(0, 4), st.booleans()),
        ),
        max_leaves=4,
    )


values = st.one_of(
    st.sampled_from(["lemonde.fr", "blog.lemonde.fr", "example.com", "fr"]).map(
        lambda v: Value("site", v)
    ),
    st.sampled_from(["fr", "en", "fr-ca"]).map(lambda v: Value("lang", v)),
    st.sampled_from(["web", "mastodon"]).map(lambda v: Value("network", v)),
    st.sampled_from(["maisonlumiere", "lampe"]).map(lambda v: Value("hashtag", v)),
    st.sampled_from(["jeanne", "paul", "jeanne@mastodon.social"]).map(lambda v: Value("handle", v)),
)

nodes = st.recursive(
    st.one_of(
        st.sampled_from(TEXT_FIELDS).flatmap(text_leaf),
        values,
        st.sampled_from(TEXT_FIELDS).flatmap(span_nodes),
    ),
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda c: And(tuple(c))),
        st.lists(inner, min_size=2, max_size=3).map(lambda c: Or(tuple(c))),
    ),
    max_leaves=8,
)

texts = st.lists(st.sampled_from(SPELLINGS), max_size=14).map(" ".join)
documents = st.builds(
    Document,
    text=texts,
    title=st.lists(st.sampled_from(SPELLINGS), max_size=4).map(" ".join),
    author=st.sampled_from(["", "Jeanne Martin @jeanne@mastodon.social", "Paul", "@paul", "Lampe"]),
    url=st.sampled_from(
        [
            "",
            "https://www.lemonde.fr/a",
            "https://blog.LeMonde.fr/b",
            "http://example.com",
            "https://lemonde.fr.example.com/",
            "not a url",
        ]
    ),
    lang=st.sampled_from(["", "fr", "en", "fr-CA", "FR"]),
    source=st.sampled_from(["", "Le Monde", "Lampe Hebdo", "Maison & Déco"]),
    network=st.sampled_from(["", "web", "mastodon", "Mastodon "]),
)
