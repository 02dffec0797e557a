import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from tribu.listening.query import QueryError, parse
from tribu.listening.query.ast import And, Near, Not, Or, Phrase, Term, Value, Wildcard


def root(query):
    return parse(query).root


def test_precedence_not_near_and_or():
    assert root("a OR b e") == Or((Term("text", "a"), And((Term("text", "b"), Term("text", "e")))))
    assert root("a b NEAR/2 e") == And(
        (Term("text", "a"), Near(Term("text", "b"), Term("text", "e"), 2, False))
    )
    assert root("a -b") == And((Term("text", "a"), Not(Term("text", "b"))))
    assert root("a NOT b") == root("a AND NOT b")


def test_leaves():
    assert root('"Maison Lumière"') == Phrase("text", ("maison", "lumiere"))
    assert root("l'avion") == Term("text", "avion")
    assert root("e-commerce") == Phrase("text", ("e", "commerce"))
    assert root("lumi*") == Wildcard("text", "lumi*")
    assert root("lumi?re") == Wildcard("text", "lumi?re")
    assert root("title:(lampe OR lum*)") == Or((Term("title", "lampe"), Wildcard("title", "lum*")))
    assert root('author:"Jeanne Martin"') == Phrase("author", ("jeanne", "martin"))
    assert root("site:https://www.LeMonde.fr/x") == Value("site", "lemonde.fr")
    assert root("lang:FR") == Value("lang", "fr")
    assert root("#Vélo") == Value("hashtag", "velo")
    assert root("@Jeanne@mastodon.social") == Value("handle", "jeanne@mastodon.social")
    assert root("«maison lumière»") == Phrase("text", ("maison", "lumiere"))
    assert root('"or" noir') == And((Term("text", "or"), Term("text", "noir")))


@pytest.mark.parametrize(
    ("query", "code", "position", "hint"),
    [
        (
            "(lampe OR luminaire",
            "unbalanced_parenthesis",
            19,
            "closing parenthesis at character 20",
        ),
        ("lampe)", "unbalanced_parenthesis", 5, "Remove it"),
        ("lampe and design", "lowercase_operator", 6, "Did you mean AND?"),
        ("titel:lampe", "unknown_field", 0, "Did you mean title:?"),
        ("http://x", "unknown_field", 0, "put it in quotes"),
        ("lampe NEAR design", "near_distance", 6, "NEAR/5"),
        ("lampe NEAR/99 design", "near_distance", 6, "smaller distance"),
        ("NOT promo", "only_negative", 0, "lampe NOT promo"),
        ("lampe OR -promo", "only_negative", 9, "lampe NOT promo"),
        ("lu*", "wildcard_prefix", 0, "at least 3 letters"),
        ("l*mpe", "wildcard_form", 0, "only at the end"),
        ('"lampe', "unclosed_quote", 0, "closing quote at character 7"),
        ("lampe OR", "expected_term", 8, "remove “OR”"),
        ("lampe AND OR design", "expected_term", 10, "Remove “OR”"),
        ("lang:fr NEAR/2 lampe", "near_operand", 8, "outside the NEAR/2"),
        ("title:lampe NEAR/2 design", "near_fields", 12, "title:(lampe NEAR/3 design)"),
        ("title: lampe", "missing_value", 6, "without a space"),
        ("title:(author:x)", "nested_field", 7, "outside"),
        ("lang:français!", "invalid_value", 0, "lang:fr"),
        ("   ", "empty", 0, "Write what to look for"),
        ("...", "empty_word", 0, "write a word"),
        ("x" * 5000, "too_long", 4000, "several topics"),
        ("(" * 25 + "a" + ")" * 25, "too_deep", 20, "parentheses"),
        (" OR ".join(f"w{n}" for n in range(301)), "too_many_terms", 0, "several topics"),
    ],
)
def test_errors_say_where_what_and_how(query, code, position, hint):
    with pytest.raises(QueryError) as info:
        parse(query)
    error = info.value
    assert (error.code, error.position) == (code, position)
    assert hint in error.message, error.message
    assert str(error) == error.message


def test_error_messages_follow_the_active_language():
    with pytest.raises(QueryError) as info:
        parse("(lampe")
    with translation.override("fr"):
        french = info.value.message
    with translation.override("en"):
        english = info.value.message
    assert english.startswith("The parenthesis at character 1 is never closed.")
    assert isinstance(french, str) and french


def test_explain_and_round_trip():
    query = parse('(lampe OR lum*) NOT promo site:lemonde.fr "maison lumière" NEAR/3 avis')
    assert parse(query.to_query()).root == query.root
    text = query.explain()
    assert "all of these:" in text and "words like “lum*”" in text
    assert "a page on lemonde.fr or its subdomains" in text
    assert "at most 3 words apart, in any order:" in text


PIECES = [
    "lampe",
    "Lumière",
    "l'avion",
    '"maison lumière"',
    "lum*",
    "lu?e",
    "AND",
    "OR",
    "NOT",
    "-",
    "(",
    ")",
    "NEAR/3",
    "ONEAR/1",
    "NEAR",
    "and",
    "title:",
    "title:x",
    "site:lemonde.fr",
    "lang:fr",
    "#tag",
    "@jeanne",
    "titel:x",
    '"',
    "*",
    ":",
    "«",
    "»",
    "author:(a OR b)",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=10).map(" ".join) | st.text(max_size=30))
def test_any_input_parses_or_raises_a_query_error(query):
    try:
        parsed = parse(query)
    except QueryError as error:
        assert 0 <= error.position <= len(query)
        assert error.message
    else:
        assert parse(parsed.to_query()).root == parsed.root


@pytest.mark.parametrize(
    ("query", "expected"),
    [("\x1b#J", "#j"), ("(#velo)", "#velo"), ("0#J", '"0 #j"'), ("title:#j", "title:#j")],
)
def test_hashtags_in_stray_punctuation_round_trip(query, expected):
    """Found by hypothesis: a hashtag of an elided letter must print back as a hashtag."""
    parsed = parse(query)
    assert parsed.to_query() == expected
    assert parse(parsed.to_query()).root == parsed.root
