"""Rich-text facets and record keys (tribu/channels/networks/bluesky.py, pure functions)."""

import re
from datetime import UTC, datetime

from tribu.channels.networks.bluesky import (
    TID_ALPHABET,
    build_facets,
    new_tid,
    tid_time,
)
from tribu.testing.fakes.schemas import validate_lexicon

DIDS = {"alice.bsky.social": "did:plc:alice", "bob.example.fr": "did:plc:bob"}


def resolve(handle):
    return DIDS.get(handle)


def spans(text, facets):
    """What each facet covers, cut from the UTF-8 bytes as a Bluesky client does."""
    data = text.encode("utf-8")
    out = []
    for facet in facets:
        index = facet["index"]
        feature = facet["features"][0]
        kind = feature["$type"].rsplit("#", 1)[1]
        value = feature.get("uri") or feature.get("did") or feature.get("tag")
        out.append((data[index["byteStart"] : index["byteEnd"]].decode("utf-8"), kind, value))
    return out


def test_byte_offsets_after_accents_and_emoji():
    text = "Été 🎉 déjà là : https://exemple.fr/café?x=1 #Rentrée 👩‍👩‍👧 @alice.bsky.social fin"
    facets = build_facets(text, resolve)
    assert spans(text, facets) == [
        ("https://exemple.fr/café?x=1", "link", "https://exemple.fr/café?x=1"),
        ("#Rentrée", "tag", "Rentrée"),
        ("@alice.bsky.social", "mention", "did:plc:alice"),
    ]
    # Byte offsets, not characters: "Été 🎉 déjà là : " is 16 characters but 24 bytes.
    assert text.index("https") == 16
    assert facets[0]["index"] == {"byteStart": 24, "byteEnd": 24 + 28}
    for facet in facets:
        validate_lexicon(facet, "app.bsky.richtext.facet")


def test_trailing_punctuation_and_parentheses_stay_outside_links():
    text = "Lisez https://tribu.fr/a. Et (https://tribu.fr/b) ou https://fr.wikipedia.org/wiki/Foo_(bar)!"
    assert [value for _span, _kind, value in spans(text, build_facets(text))] == [
        "https://tribu.fr/a",
        "https://tribu.fr/b",
        "https://fr.wikipedia.org/wiki/Foo_(bar)",
    ]


def test_only_real_links_at_a_word_start():
    text = "voir:https://collé.fr, http://localhost/x et https://ok.example/chemin"
    assert [span for span, _kind, _value in spans(text, build_facets(text))] == [
        "https://ok.example/chemin"
    ]


def test_hashtags_follow_blueskys_rules():
    text = "#été! #2026 #C++ a#pas #🎉 ＃pleine #tag.fin, #Rentrée2026"
    found = [value for _span, kind, value in spans(text, build_facets(text)) if kind == "tag"]
    # Digits alone are not a tag; trailing punctuation is cut; a tag needs a space before.
    assert found == ["été", "C++", "🎉", "pleine", "tag.fin", "Rentrée2026"]


def test_long_hashtags_are_ignored():
    text = "#" + "a" * 64 + " #" + "b" * 65
    assert [value for _s, _k, value in spans(text, build_facets(text))] == ["a" * 64]


def test_mentions_resolve_or_stay_plain_text():
    text = (
        "Merci @alice.bsky.social, @inconnu.example.com et @Bob.Example.fr. "
        "Écrivez à contact@tribu.fr"
    )
    assert spans(text, build_facets(text, resolve)) == [
        ("@alice.bsky.social", "mention", "did:plc:alice"),
        ("@Bob.Example.fr", "mention", "did:plc:bob"),
    ]
    # Without a resolver, no mention at all (a mention needs a DID).
    assert spans(text, build_facets(text)) == []


def test_mentions_need_a_valid_handle():
    calls = []

    def spy(handle):
        calls.append(handle)
        return "did:plc:x"

    build_facets("@alice @-bad.fr @élodie.fr @ok.fr_suite (@ok.example)", spy)
    assert calls == ["ok.example"]


def test_a_hash_or_at_inside_a_link_belongs_to_the_link():
    text = "https://tribu.fr/page#section https://x.example/@alice.bsky.social"
    assert [kind for _span, kind, _value in spans(text, build_facets(text, resolve))] == [
        "link",
        "link",
    ]


def test_no_facets_in_plain_text():
    assert build_facets("Bonjour à tous, rien à signaler.", resolve) == []


def test_tids_are_13_sortable_characters_carrying_the_time():
    keys = [new_tid() for _ in range(200)]
    assert all(len(key) == 13 and set(key) <= set(TID_ALPHABET) for key in keys)
    assert all(re.match(r"^[234567abcdefghij]", key) for key in keys)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert abs((tid_time(keys[0]) - datetime.now(UTC)).total_seconds()) < 5


def test_tid_encodes_microseconds_and_a_clock_id():
    moment = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
    micros = int(moment.timestamp()) * 1_000_000 + 123456
    key = new_tid(micros)
    assert tid_time(key) == moment
    assert tid_time("not-a-tid") is None
    assert tid_time("zzzzzzzzzzzzz") is None  # the top bit must be zero
