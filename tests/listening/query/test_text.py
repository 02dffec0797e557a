import pytest

from tribu.listening.query.text import (
    fold,
    handles,
    hashtags,
    host_suffixes,
    languages,
    normalize_site,
    tokenize,
    words,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("École", "ecole"),
        ("ŒUVRE", "oeuvre"),
        ("Straße", "strasse"),
        ("l’avion", "l'avion"),
        ("ﬁn", "fin"),
        ("plain ascii", "plain ascii"),
        ("e\u0301cole", "ecole"),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded


def test_tokenize_splits_elisions_and_keeps_hashtags_and_handles():
    assert tokenize("L’avion de Tribu's, jusqu'à qu'il vienne aujourd'hui") == [
        "avion",
        "de",
        "tribu",
        "a",
        "il",
        "vienne",
        "aujourd",
        "hui",
    ]
    assert tokenize("#MaisonLumière merci @jeanne@mastodon.social et @alice.bsky.social.") == [
        "#maisonlumiere",
        "merci",
        "@jeanne@mastodon.social",
        "et",
        "@alice.bsky.social",
    ]
    assert tokenize("Déco-Maison 2024!") == ["deco", "maison", "2024"]


def test_words_hashtags_handles():
    tokens = tokenize("#Velo @jeanne@mastodon.social vélo")
    assert words(tokens) == ["velo", "@jeanne@mastodon.social", "velo"]
    assert hashtags(tokens) == {"velo"}
    assert handles(tokens) == {"jeanne@mastodon.social", "jeanne"}


def test_sites_and_languages():
    assert host_suffixes("https://www.LeMonde.fr:443/a") == {"www.lemonde.fr", "lemonde.fr", "fr"}
    assert host_suffixes("") == set()
    assert normalize_site("https://www.lemonde.fr/a?b") == "lemonde.fr"
    assert languages("fr_CA") == {"fr-ca", "fr"}
    assert languages("") == set()
