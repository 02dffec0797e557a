"""tribu.listening.services.dedupe: canonical URLs, duplicate keys and sort keys."""

from datetime import UTC, datetime

from tribu.listening.services import dedupe


def test_canonical_url_drops_tracking_fragment_and_default_port():
    url = "HTTPS://Blog.Example:443/post?utm_source=x&b=2&a=1&fbclid=abc#comments"
    assert dedupe.canonical_url(url) == "https://blog.example/post?a=1&b=2"


def test_canonical_url_keeps_other_ports_and_empty_path_becomes_slash():
    assert dedupe.canonical_url("http://Example.org:8080") == "http://example.org:8080/"
    assert dedupe.canonical_url("") == ""


def test_http_and_https_copies_share_a_url_key():
    assert dedupe.url_key("http://a.example/x") == dedupe.url_key("https://a.example/x")
    assert dedupe.url_key("https://a.example/x") != dedupe.url_key("https://a.example/y")
    assert dedupe.url_key("") is None


def test_hashes_are_signed_64_bit():
    for value in ("a", "b", "école", "x" * 10_000):
        assert -(2**63) <= dedupe.hash64(value) < 2**63


def test_near_key_ignores_urls_handles_accents_and_boost_prefixes():
    original = "Maison Lumière ouvre une nouvelle boutique à Lyon ce samedi https://t.co/abc"
    boost = (
        "RT @jeanne@mastodon.social: maison lumiere ouvre une nouvelle boutique a Lyon ce samedi"
    )
    assert dedupe.near_key("", original) == dedupe.near_key("", boost)
    assert dedupe.near_key("", original) != dedupe.near_key(
        "", "Une tout autre nouvelle ici vraiment"
    )


def test_short_texts_never_group():
    assert dedupe.near_key("", "Merci !") is None
    assert dedupe.near_key("", "Bravo à toute l'équipe") is None  # five words


def test_near_key_falls_back_to_the_title():
    assert dedupe.near_key("Un titre assez long pour être un article", "") is not None


def test_content_hash_depends_on_author_and_text():
    a = dedupe.content_hash("web", "jeanne", "Titre", "Texte")
    assert a == dedupe.content_hash("web", "jeanne", "Titre", "Texte")
    assert a != dedupe.content_hash("web", "paul", "Titre", "Texte")
    assert dedupe.content_hash("web", "jeanne", "", "") is None


def test_base_sort_key_is_microseconds_since_the_epoch():
    moment = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert dedupe.base_sort_key(moment) == int(moment.timestamp()) * 1_000_000 + 678901


def test_allocate_sort_keys_takes_the_next_free_value():
    used = {100, 101, 103}

    def among(keys):
        return used & set(keys)

    def between(low, high):
        return {key for key in used if low <= key <= high}

    assert dedupe.allocate_sort_keys([100, 100, 200, 102], among, between) == [102, 104, 200, 105]
    assert dedupe.allocate_sort_keys([], among, between) == []
