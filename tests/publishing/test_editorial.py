from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tribu.publishing.editorial import (
    check,
    find_word,
    fold,
    hashtags_to_add,
    missing_hashtags,
    with_hashtags,
    words_to_avoid,
)


def line(words="", hashtags="", tone=""):
    return SimpleNamespace(words_to_avoid=words, hashtags_to_add=hashtags, editorial_tone=tone)


def found(text, words):
    """The passages of `text` reported as words to avoid, in order."""
    problems = check(text, line(words=words))
    assert all(p.code == "word_to_avoid" and p.severity == "warning" for p in problems)
    return [text[p.position : p.position + p.length] for p in problems]


# --- Words to avoid ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "passages"),
    [
        ("Une arnaque !", ["arnaque"]),
        ("UNE ARNAQUE", ["ARNAQUE"]),  # case
        ("Arnaqué, vraiment ?", ["Arnaqué"]),  # accents
        ("Arnaque\u0301", ["Arnaque\u0301"]),  # a decomposed accent
        ("C'est l'arnaque.", ["arnaque"]),  # French elision
        ("C’est l’arnaque.", ["arnaque"]),  # typographic apostrophe
        ("Rien d'arnaque, qu'arnaque", ["arnaque"]),  # reported once
        ("«'arnaque'»", ["arnaque"]),  # quote marks are not apostrophes inside a word
        ("anti-arnaque", ["arnaque"]),  # a hyphen separates words
        ("#arnaque du jour", ["arnaque"]),
        ("Des arnaques", []),  # another word: list the plural too
        ("arnaqueur", []),
        ("préarnaque", []),
        ("", []),
    ],
)
def test_whole_words_whatever_the_case_and_accents(text, passages):
    assert found(text, "arnaque") == passages


@pytest.mark.parametrize("elided", ["l'", "d'", "j'", "qu'", "jusqu'", "lorsqu'", "L’", "QU’"])
def test_each_french_elision(elided):
    assert found(f"Voilà {elided}arnaque.", "arnaque") == ["arnaque"]


def test_an_apostrophe_inside_a_word_is_not_an_elision():
    assert found("Aujourd'hui, c'est promo.", "hui") == []
    assert found("Aujourd'hui, pas hui.", "hui") == ["hui"]
    assert found("Les prud'hommes", "hommes") == []


def test_each_word_is_reported_once_at_its_first_occurrence():
    text = "Pas cher, vraiment pas cher. L'arnaque ? Une arnaque."
    problems = check(text, line(words="arnaque\npas cher"))
    assert [(p.position, p.length) for p in problems] == [(0, 8), (31, 7)]
    assert problems[1].message == (
        "“arnaque” is on this workspace's list of words to avoid. Rephrase this passage."
    )


def test_several_words_match_across_any_spaces():
    assert found("C'est PAS\u00a0\n CHER !", "pas cher") == ["PAS\u00a0\n CHER"]
    assert found("pascher", "pas cher") == []


def test_positions_are_in_the_original_text():
    # "ß" folds to two characters and "é" written as e + accent to one: positions still
    # point into the text as written.
    text = "Straße e\u0301te\u0301 Cœur coeur"
    assert found(text, "coeur") == ["Cœur"]
    assert found(text, "COEUR\nété") == ["e\u0301te\u0301", "Cœur"]


def test_list_tolerates_blank_lines_duplicates_and_none():
    settings_like = line(words="\n  arnaque  \n\nArnaqué\n\t\n")
    assert words_to_avoid(settings_like) == ["arnaque"]
    assert found("arnaque", "\n  arnaque  \n\nArnaqué\n") == ["arnaque"]
    assert check("arnaque #tag", SimpleNamespace(words_to_avoid=None, hashtags_to_add=None)) == []


def test_the_tone_is_not_checked():
    assert check("Bonjour", line(tone="Chaleureux, jamais familier. Pas d'arnaque.")) == []


def test_find_word_with_an_empty_entry():
    assert find_word("texte", "   ") is None


def test_check_copies_the_part():
    [problem] = check("arnaque", line(words="arnaque"), part=2)
    assert problem.part == 2


words = st.text(alphabet="aeéiouèbcdlmnrst", min_size=1, max_size=8)
filler = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(filler, words, filler)
def test_every_reported_passage_is_the_word(before, word, after):
    text = f"{before} {word.upper()} {after}"
    problems = check(text, line(words=word))
    # The word is there, surrounded by spaces: it is always found, at most once, and what is
    # reported is the word modulo case and accents.
    assert len(problems) == 1
    passage = text[problems[0].position : problems[0].position + problems[0].length]
    assert fold(passage)[0] == fold(word)[0]


# --- Hashtags to add ---------------------------------------------------------------------------


def test_hashtags_to_add_tolerates_stray_hashes_and_blank_lines():
    settings_like = line(hashtags="#Tribu\n\n  ## Lyon  \nTRIBU\n#Été, #RGPD\n")
    assert hashtags_to_add(settings_like) == ["Tribu", "Lyon", "Été", "RGPD"]


def test_missing_hashtags_case_insensitive_whole_tags():
    settings_like = line(hashtags="Tribu\nLyon\nÉté")
    assert missing_hashtags("Merci #tribu #LYONNAIS", settings_like) == ["Lyon", "Été"]
    assert missing_hashtags("#TRIBU #lyon #été", settings_like) == []
    # An anchor inside a URL is not a hashtag.
    assert missing_hashtags("https://example.com/#lyon #tribu #été", settings_like) == ["Lyon"]


def test_check_reports_the_missing_hashtags_once():
    problems = check("Bonjour #tribu", line(hashtags="Tribu\nLyon\nParis"))
    assert [(p.code, p.severity) for p in problems] == [("missing_hashtags", "warning")]
    assert problems[0].message == (
        "Missing hashtags from the editorial line: #Lyon #Paris. Add them to the post."
    )
    [problem] = check("Bonjour", line(hashtags="Lyon"))
    assert problem.message == "Missing hashtag from the editorial line: #Lyon. Add it to the post."


def test_words_come_before_hashtags():
    problems = check("Une arnaque", line(words="arnaque", hashtags="Tribu"))
    assert [p.code for p in problems] == ["word_to_avoid", "missing_hashtags"]


def test_with_hashtags_appends_the_missing_ones_on_a_new_line():
    settings_like = line(hashtags="#Tribu\nLyon")
    assert with_hashtags("Bonjour #lyon  \n", settings_like) == "Bonjour #lyon\n#Tribu"
    assert with_hashtags("", settings_like) == "#Tribu #Lyon"
    assert with_hashtags("Déjà #tribu et #Lyon", settings_like) == "Déjà #tribu et #Lyon"
    assert with_hashtags("Rien", line()) == "Rien"


@given(st.text(), st.lists(st.text(alphabet="abcéXYZ_1", min_size=1, max_size=6), max_size=4))
def test_with_hashtags_leaves_nothing_missing(text, tags):
    settings_like = line(hashtags="\n".join(tags))
    completed = with_hashtags(text, settings_like)
    assert missing_hashtags(completed, settings_like) == []
    assert with_hashtags(completed, settings_like) == completed
    assert completed.startswith(text.rstrip())
