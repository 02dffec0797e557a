import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tribu.publishing.text import (
    LINKEDIN_RESERVED,
    MAX_CHARACTERS,
    count,
    find_hashtags,
    find_urls,
    graphemes,
    linkedin_escape,
    mastodon_countable,
    validate,
    x_weighted_length,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦, 25 bytes
THUMB_MEDIUM = "\U0001f44d\U0001f3fd"  # 👍🏽
FLAG_FR = "\U0001f1eb\U0001f1f7"  # 🇫🇷
KEYCAP_ONE = "1\ufe0f\u20e3"  # 1️⃣
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈
RED_HEART = "\u2764\ufe0f"  # ❤️
GRINNING = "\U0001f600"  # 😀


def jpeg(**fields):
    return {
        "content_type": "image/jpeg",
        "size": 300_000,
        "width": 1080,
        "height": 1080,
        "alt": "A red bicycle",
    } | fields


def codes(problems):
    return [problem.code for problem in problems]


# --- URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("Lisez https://example.com/blog/post-1.", "https://example.com/blog/post-1"),
        (
            "(voir https://fr.wikipedia.org/wiki/Lyon_(ville)).",
            "https://fr.wikipedia.org/wiki/Lyon_(ville)",
        ),
        (
            "https://example.com/a?utm_source=x&b=1, ensuite",
            "https://example.com/a?utm_source=x&b=1",
        ),
        ("HTTP://EXAMPLE.COM/Page!", "HTTP://EXAMPLE.COM/Page"),
        ("https://café.fr/menu?", "https://café.fr/menu"),
        ("https://example.com:8080/x/", "https://example.com:8080/x/"),
        (
            "https://fr.wikipedia.org/wiki/Élysée#Histoire",
            "https://fr.wikipedia.org/wiki/Élysée#Histoire",
        ),
    ],
)
def test_urls_with_a_scheme_leave_trailing_punctuation_out(text, url):
    spans = find_urls(text)
    assert [text[start:end] for start, end in spans] == [url]


@pytest.mark.parametrize(
    "text",
    [
        "https://localhost/x",  # no dot, no TLD
        "voirhttps://example.com",  # glued to a word
        "ftp://example.com/file",
        "example.com/page",  # a bare domain needs bare_domains=True
    ],
)
def test_what_is_not_a_url_with_a_scheme(text):
    assert find_urls(text) == []


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("example.fr/page", ["example.fr/page"]),
        ("example.fr", []),  # one name under a country code, without a path
        ("www.example.fr", ["www.example.fr"]),
        ("example.com", ["example.com"]),
        ("Example.COM.", ["Example.COM"]),
        ("t.co", ["t.co"]),  # twitter-text's special short domains
        ("maison.paris et lyon.bzh", ["maison.paris", "lyon.bzh"]),
        ("example.notatld/page", []),  # an unknown generic TLD
        ("fichier.pdf", []),
        ("contact@example.com", []),  # an email address
        ("/example.com", []),
        ("-example.com", []),
        ("example.com-foo", []),
        ("xn--caf-dma.com", ["xn--caf-dma.com"]),
        (
            "Voir https://example.com/a et example.org/b.",
            ["https://example.com/a", "example.org/b"],
        ),
    ],
)
def test_bare_domains(text, urls):
    spans = find_urls(text, bare_domains=True)
    assert [text[start:end] for start, end in spans] == urls


def test_hashtags_inside_a_url_are_not_hashtags():
    text = "#Lyon https://example.com/page#section #été"
    assert [tag for _start, _end, tag in find_hashtags(text)] == ["Lyon", "été"]


# --- Mastodon ----------------------------------------------------------------------------------


def test_mastodon_counts_grapheme_clusters():
    assert count("mastodon", FAMILY + THUMB_MEDIUM + FLAG_FR + "e\u0301").length == 4


@pytest.mark.parametrize("path", ["", "/a", "/" + "long-path/" * 40 + "end"])
def test_mastodon_counts_every_url_as_23_characters(path):
    text = f"Lisez https://example.com{path} !"
    assert count("mastodon", text).length == len("Lisez ") + 23 + len(" !")


def test_mastodon_url_length_comes_from_the_instance():
    measured = count(
        "mastodon", "https://example.com/" + "a" * 80, limits={"characters_reserved_per_url": 30}
    )
    assert measured.length == 30


def test_mastodon_reduces_remote_mentions_to_the_user_name():
    text = "Merci @alice@mastodon.social et @bob !"
    assert mastodon_countable(text) == "Merci @alice et @bob !"
    assert count("mastodon", text).length == len("Merci @alice et @bob !")


@pytest.mark.parametrize(
    "text",
    [
        "contact@example.com",  # an email address is not a mention
        "@alice@",  # followed by another @: Mastodon ignores it
        "@josé",  # followed by an accented letter
        "a=@alice@example.com",
    ],
)
def test_mastodon_leaves_non_mentions_alone(text):
    assert mastodon_countable(text) == text


def test_mastodon_a_mention_inside_a_url_is_part_of_the_url():
    assert count("mastodon", "https://mastodon.social/@alice@example.com").length == 23


def test_mastodon_limit_at_the_edge_and_from_the_instance():
    assert not count("mastodon", "a" * 500).over
    measured = count("mastodon", "a" * 501)
    assert (measured.over, measured.remaining, measured.maximum) == (True, -1, 500)
    assert not count("mastodon", "a" * 501, limits={"max_characters": 1000}).over


@pytest.mark.parametrize("value", [None, "lots", 0, -5, True, [500]])
def test_nonsense_limits_fall_back_to_the_defaults(value):
    limits = {"max_characters": value, "characters_reserved_per_url": value}
    measured = count("mastodon", "https://example.com/page", limits=limits)
    assert (measured.maximum, measured.length) == (500, 23)


url_labels = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=20)
urls = st.builds(
    lambda host, tld, path: f"https://{host}.{tld}{path}",
    st.lists(url_labels, min_size=1, max_size=3).map(".".join),
    st.sampled_from(["com", "fr", "org", "paris", "io"]),
    st.one_of(
        st.just(""),
        st.lists(st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1)).map(
            lambda segments: "/" + "/".join(segments)
        ),
    ),
)
# Filler words: anything but characters that make URLs or mentions, and no spaces inside.
words = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters="@＠:/."
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(words, urls), max_size=5),
    words,
    st.integers(min_value=1, max_value=60),
)
def test_mastodon_urls_of_any_length_count_as_the_reserved_length(pieces, tail, reserved):
    text = " ".join(f"{word} {url}" for word, url in pieces) + " " + tail
    placeholder = " ".join(f"{word} {'x' * reserved}" for word, _url in pieces) + " " + tail
    limits = {"characters_reserved_per_url": reserved}
    assert count("mastodon", text, limits=limits).length == graphemes(placeholder)


# --- Bluesky -----------------------------------------------------------------------------------


def test_bluesky_counts_300_graphemes():
    assert not count("bluesky", "é" * 300).over
    assert count("bluesky", "é" * 301).over
    assert count("bluesky", FAMILY * 3).length == 3


def test_bluesky_also_counts_3000_bytes():
    measured = count("bluesky", FAMILY * 120)  # 120 graphemes, 3,000 bytes
    assert (measured.length, measured.byte_length, measured.max_bytes) == (120, 3000, 3000)
    assert not measured.over
    measured = count("bluesky", FAMILY * 121)
    assert measured.length == 121 and measured.byte_length == 3025 and measured.over


def test_bluesky_counts_urls_in_full():
    url = "https://example.com/" + "a" * 100
    assert count("bluesky", url).length == len(url)


@given(st.text())
def test_bluesky_graphemes_never_exceed_bytes(text):
    measured = count("bluesky", text)
    assert measured.length <= len(text) <= measured.byte_length


# --- X -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("Bonjour à tous, ça va ? Où est l'été ?", 38),  # French accents weigh 1
        ("e\u0301", 1),  # NFC: e + combining accent is one é
        ("日本語", 6),  # CJK weigh 2
        ("안녕", 4),  # Hangul syllables weigh 2
        ("\u1100\u1161", 2),  # conjoining jamo: NFC composes them into one syllable (가)
        ("Привет", 6),  # Cyrillic weighs 1
        ("“citation” – fin", 16),  # quotes and dashes in 8208–8223 weigh 1
        ("…", 2),  # U+2026 is outside the light ranges
        ("€", 2),
        (GRINNING, 2),
        (FAMILY, 2),  # a ZWJ sequence weighs 2 in total
        (THUMB_MEDIUM, 2),  # skin tone
        (FLAG_FR, 2),
        (FLAG_FR + FLAG_FR, 4),
        (KEYCAP_ONE, 2),
        (RAINBOW_FLAG, 2),
        (RED_HEART, 2),
        ("\u263a\ufe0e", 4),  # text presentation: two code points weighing 2
        ("©", 1),  # text, as in twemoji
        ("©\ufe0f", 2),  # the emoji
        ("https://example.com/" + "a" * 100, 23),
        ("https://a.fr", 23),  # shorter than 23 still weighs 23
        ("example.fr/page", 23),
        ("example.fr", 10),
        ("www.example.fr", 23),
        ("contact@example.com", 19),
        ("Voir example.com et " + GRINNING, 5 + 23 + 4 + 2),
    ],
)
def test_x_weighted_length(text, weight):
    assert x_weighted_length(text) == weight
    assert count("x", text).length == weight


def test_x_limit_at_the_edge():
    assert not count("x", "a" * 280).over
    assert count("x", "a" * 281).over
    assert not count("x", "日" * 140).over
    measured = count("x", "日" * 141)
    assert measured.over and measured.length == 282 and measured.remaining == -2
    assert not count("x", "a" * 1000, limits={"max_characters": 4000}).over


latin1_without_dots = st.text(
    alphabet=st.characters(
        max_codepoint=255, blacklist_characters=".", blacklist_categories=("Cs",)
    )
)


@given(latin1_without_dots)
def test_x_weight_of_latin1_text_is_its_nfc_length(text):
    # Without a dot, nothing in Latin-1 makes a URL.
    assert x_weighted_length(text) == len(unicodedata.normalize("NFC", text))


@given(latin1_without_dots, urls, latin1_without_dots)
def test_x_url_weighs_23_whatever_its_length(before, url, after):
    text = f"{before} {url} {after}"
    assert x_weighted_length(text) == x_weighted_length(before) + 23 + 2 + x_weighted_length(after)


# --- LinkedIn, Facebook, Instagram, Threads --------------------------------------------------


def test_linkedin_counts_the_text_as_written_not_escaped():
    text = "(a) #b @c " * 300  # 3,000 characters, 3,900 once escaped
    assert len(linkedin_escape(text)) > 3000
    measured = count("linkedin", text)
    assert (measured.length, measured.maximum, measured.over) == (3000, 3000, False)
    assert count("linkedin", text + "!").over


@pytest.mark.parametrize(("network", "maximum"), [("facebook", 63206), ("instagram", 2200)])
def test_facebook_and_instagram_count_characters(network, maximum):
    assert MAX_CHARACTERS[network] == maximum
    assert not count(network, "é" * maximum).over
    assert count(network, "é" * (maximum + 1)).over


@pytest.mark.parametrize(
    ("text", "length"),
    [(GRINNING, 4), (THUMB_MEDIUM, 8), (FAMILY, 25), (RED_HEART, 6), ("été", 3), ("日本", 2)],
)
def test_threads_counts_emoji_by_their_utf8_bytes(text, length):
    assert count("threads", text).length == length


def test_threads_limit_at_the_edge():
    assert not count("threads", GRINNING * 125).over
    assert count("threads", GRINNING * 126).over


@given(st.text(alphabet=st.characters(max_codepoint=255, blacklist_characters="©®")))
def test_threads_counts_text_without_emoji_by_characters(text):
    assert count("threads", text).length == len(text)


def test_unknown_network():
    with pytest.raises(ValueError, match="myspace"):
        count("myspace", "hello")
    with pytest.raises(ValueError, match="myspace"):
        validate("myspace", text="hello")


def test_count_describes_the_unit_and_the_rule():
    measured = count("x", "hello")
    assert measured.unit == "characters"
    assert "23" in measured.rule
    assert count("facebook", "").length == 0


# --- LinkedIn escaping -------------------------------------------------------------------------


def test_linkedin_escape_every_reserved_character():
    assert linkedin_escape("Merci (vraiment) @Tribu #fier *_~ {x|y} [a] <b> \\") == (
        "Merci \\(vraiment\\) \\@Tribu \\#fier \\*\\_\\~ \\{x\\|y\\} \\[a\\] \\<b\\> \\\\"
    )
    assert linkedin_escape("Rien à échapper.") == "Rien à échapper."


def unescape(escaped):
    """Read LinkedIn's little text: a backslash makes the next character literal. Raises if a
    reserved character is left unescaped."""
    out, index = [], 0
    while index < len(escaped):
        char = escaped[index]
        if char == "\\":
            out.append(escaped[index + 1])
            index += 2
            continue
        assert char not in LINKEDIN_RESERVED, escaped
        out.append(char)
        index += 1
    return "".join(out)


@given(st.text(alphabet=st.sampled_from(sorted(LINKEDIN_RESERVED)) | st.characters()))
def test_linkedin_escape_reads_back_as_the_original(text):
    assert unescape(linkedin_escape(text)) == text


# --- validate: text ----------------------------------------------------------------------------


def test_too_long_says_by_how_much():
    [problem] = validate("bluesky", text="a" * 312)
    assert problem.code == "too_long"
    assert problem.severity == "error"
    assert problem.part == 0
    assert (
        problem.message
        == "Too long for Bluesky: 312 characters out of 300. Shorten it by 12 characters."
    )


def test_too_long_by_one_with_thousands_separators():
    [problem] = validate("facebook", text="a" * 63207)
    assert problem.message == (
        "Too long for Facebook Page: 63,207 characters out of 63,206. Shorten it by 1 character."
    )


def test_too_many_bytes_on_bluesky():
    [problem] = validate("bluesky", text=FAMILY * 121)
    assert problem.code == "too_many_bytes"
    assert "3,025 bytes out of 3,000" in problem.message


def test_each_thread_part_is_checked():
    problems = validate("x", text="ok", thread=["a" * 280, "b" * 290, "   "])
    assert [(p.code, p.part) for p in problems] == [("too_long", 2), ("empty_part", 3)]
    assert problems[0].message.startswith("Part 3 of the thread is too long for X: 290 characters")


@pytest.mark.parametrize("network", ["mastodon", "bluesky", "x", "linkedin", "facebook", "threads"])
def test_empty_post(network):
    assert codes(validate(network, text="  \n ")) == ["empty"]
    assert validate(network, text="", media=[jpeg()]) == []


def test_instagram_needs_an_image_not_a_caption():
    assert codes(validate("instagram", text="Bonjour")) == ["image_required"]
    assert codes(validate("instagram", text="")) == ["image_required"]
    assert validate("instagram", text="", media=[jpeg()]) == []


@pytest.mark.parametrize("network", ["linkedin", "facebook", "instagram"])
def test_threads_are_refused_where_the_network_has_none(network):
    problems = validate(network, text="Bonjour", thread=["La suite"], media=[jpeg()])
    assert codes(problems) == ["thread_not_supported"]
    assert "first comment" in problems[0].message
    # Blank parts are no thread.
    assert validate(network, text="Bonjour", thread=["", "  "], media=[jpeg()]) == []
    [problem] = validate(network, text="Bonjour", thread=["", "La suite"], media=[jpeg()])
    assert problem.part == 2


@pytest.mark.parametrize("network", ["mastodon", "bluesky", "x", "threads"])
def test_first_comment_is_refused_where_the_network_has_threads(network):
    problems = validate(network, text="Bonjour", first_comment="#hashtags")
    assert codes(problems) == ["first_comment_not_supported"]
    assert "thread" in problems[0].message
    assert validate(network, text="Bonjour", first_comment="  ") == []


@pytest.mark.parametrize(
    ("network", "maximum"), [("linkedin", 1250), ("facebook", 8000), ("instagram", 2200)]
)
def test_first_comment_has_its_own_limit(network, maximum):
    media = [jpeg()]
    assert validate(network, text="Bonjour", first_comment="a" * maximum, media=media) == []
    problems = validate(network, text="Bonjour", first_comment="a" * (maximum + 1), media=media)
    assert codes(problems) == ["first_comment_too_long"]


def test_instagram_hashtag_and_mention_caps():
    tags = " ".join(f"#tag{i}" for i in range(30))
    mentions = " ".join(f"@user.{i}" for i in range(20))
    assert validate("instagram", text=f"{tags} {mentions}", media=[jpeg()]) == []
    problems = validate("instagram", text=f"{tags} #encore {mentions} @encore", media=[jpeg()])
    assert codes(problems) == ["too_many_hashtags", "too_many_mentions"]
    assert "31 out of 30" in problems[0].message and "21 out of 20" in problems[1].message


def test_instagram_caps_apply_to_the_first_comment():
    tags = " ".join(f"#tag{i}" for i in range(31))
    problems = validate("instagram", text="Bonjour", first_comment=tags, media=[jpeg()])
    assert codes(problems) == ["too_many_hashtags"]
    assert "the first comment" in problems[0].message


def test_instagram_emails_and_url_anchors_are_not_mentions_or_hashtags():
    text = " ".join(f"contact{i}@example.com" for i in range(25)) + " https://example.com/#a"
    problems = validate("instagram", text=text, media=[jpeg()])
    assert codes(problems) == ["link_not_clickable"]
    assert problems[0].severity == "warning"


def test_x_duplicate_content_is_not_checked_here():
    assert validate("x", text="Same text") == validate("x", text="Same text") == []


# --- validate: media ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "maximum"),
    [
        ("mastodon", 4),
        ("bluesky", 4),
        ("x", 4),
        ("linkedin", 20),
        ("instagram", 10),
        ("facebook", 10),
        ("threads", 20),
    ],
)
def test_image_count(network, maximum):
    assert validate(network, text="Bonjour", media=[jpeg()] * maximum) == []
    problems = validate(network, text="Bonjour", media=[jpeg()] * (maximum + 2))
    assert codes(problems) == ["too_many_images"]
    assert f"{maximum + 2} out of {maximum}. Remove 2 images." in problems[0].message


def test_mastodon_image_count_comes_from_the_instance():
    assert (
        validate("mastodon", text="a", media=[jpeg()] * 6, limits={"max_media_attachments": 6})
        == []
    )
    assert codes(validate("mastodon", text="a", media=[jpeg()] * 5)) == ["too_many_images"]


@pytest.mark.parametrize(
    ("network", "size", "expected"),
    [
        ("bluesky", 1_000_000, []),
        ("bluesky", 1_000_001, ["image_heavy"]),
        ("bluesky", 2_000_000, ["image_heavy"]),
        ("bluesky", 2_000_001, ["image_too_big"]),
        ("mastodon", 16_000_000, []),
        ("mastodon", 16_000_001, ["image_too_big"]),
        ("x", 5_000_000, []),
        ("x", 5_000_001, ["image_too_big"]),
        ("instagram", 8_000_001, ["image_too_big"]),
        ("threads", 8_000_001, ["image_too_big"]),
        ("facebook", 4_000_001, ["image_too_big"]),
        ("linkedin", 5_000_001, ["image_too_big"]),
    ],
)
def test_image_size(network, size, expected):
    assert codes(validate(network, text="a", media=[jpeg(size=size)])) == expected


def test_image_size_messages():
    [problem] = validate("bluesky", text="a", media=[jpeg(size=2_540_000)])
    assert problem.message == (
        "Image 1 is too big for Bluesky: 2.54 MB, the limit is 2 MB. Resize or compress it."
    )
    assert problem.media == 0
    [warning] = validate("bluesky", text="a", media=[jpeg(), jpeg(size=1_500_000)])
    assert warning.severity == "warning" and warning.media == 1
    assert "Image 2 weighs 1.5 MB" in warning.message and "under 1 MB" in warning.message


def test_x_gifs_may_be_bigger_and_should_be_alone():
    gif = jpeg(content_type="image/gif", size=12_000_000)
    assert validate("x", text="a", media=[gif]) == []
    assert codes(validate("x", text="a", media=[gif | {"size": 15_000_001}])) == ["image_too_big"]
    problems = validate("x", text="a", media=[gif, jpeg()])
    assert codes(problems) == ["gif_not_alone"] and problems[0].severity == "warning"


def test_mastodon_image_size_comes_from_the_instance():
    media = [jpeg(size=9_000_000)]
    assert codes(
        validate("mastodon", text="a", media=media, limits={"image_size_limit": 8_000_000})
    ) == ["image_too_big"]


@pytest.mark.parametrize(
    ("network", "content_type", "accepted"),
    [
        ("instagram", "image/png", False),
        ("instagram", "image/jpg", True),
        ("instagram", "IMAGE/JPEG; q=1", True),
        ("threads", "image/png", True),
        ("threads", "image/webp", False),
        ("linkedin", "image/gif", True),
        ("linkedin", "image/webp", False),
        ("facebook", "image/webp", False),
        ("bluesky", "image/webp", True),
        ("mastodon", "image/heic", False),
        ("x", "video/mp4", False),
    ],
)
def test_image_format(network, content_type, accepted):
    problems = validate(network, text="a", media=[jpeg(content_type=content_type)])
    assert codes(problems) == ([] if accepted else ["image_format"])


def test_image_format_message_names_the_formats():
    [problem] = validate("instagram", text="a", media=[jpeg(content_type="image/png")])
    assert problem.message == (
        "Image 1 is in PNG format, which Instagram does not accept. "
        "Save it in one of these formats: JPEG."
    )


@pytest.mark.parametrize(
    ("width", "height", "accepted"),
    [
        (1080, 1350, True),  # 4:5
        (1080, 1352, True),  # 0.7988, 0.80 at two decimals
        (1080, 1400, False),  # 0.77
        (1080, 1920, False),  # a story, not a feed image
        (1080, 566, True),  # 1.91:1
        (1200, 628, True),  # 1.9108, 1.91 at two decimals
        (2000, 1000, False),
        (1080, 1080, True),
    ],
)
def test_instagram_aspect_ratio(width, height, accepted):
    problems = validate("instagram", text="a", media=[jpeg(width=width, height=height)])
    assert codes(problems) == ([] if accepted else ["image_aspect_ratio"])


def test_other_networks_accept_any_shape():
    assert validate("x", text="a", media=[jpeg(width=1080, height=1920)]) == []


def test_linkedin_pixel_cap():
    assert validate("linkedin", text="a", media=[jpeg(width=6000, height=6000)]) == []
    problems = validate("linkedin", text="a", media=[jpeg(width=6100, height=6000)])
    assert codes(problems) == ["image_too_many_pixels"]


def test_missing_alt_text_is_a_warning():
    problems = validate("mastodon", text="a", media=[jpeg(), jpeg(alt="  "), jpeg(alt=None)])
    assert [(p.code, p.severity, p.media) for p in problems] == [
        ("missing_alt_text", "warning", 1),
        ("missing_alt_text", "warning", 2),
    ]
    assert problems[0].message.startswith("Image 2 has no description (alt text).")


def test_alt_text_limits():
    assert validate("x", text="a", media=[jpeg(alt="a" * 1000)]) == []
    assert codes(validate("x", text="a", media=[jpeg(alt="a" * 1001)])) == ["alt_text_too_long"]
    assert codes(validate("mastodon", text="a", media=[jpeg(alt="a" * 1501)])) == [
        "alt_text_too_long"
    ]
    limits = {"description_limit": 5000}
    assert validate("mastodon", text="a", media=[jpeg(alt="a" * 1501)], limits=limits) == []


def test_media_with_missing_fields_skips_what_cannot_be_checked():
    assert codes(validate("instagram", text="a", media=[{"content_type": "image/jpeg"}])) == [
        "missing_alt_text"
    ]


def test_problems_come_in_reading_order():
    problems = validate(
        "bluesky",
        text="a" * 301,
        thread=["b" * 301],
        first_comment="c",
        media=[jpeg(content_type="image/tiff", alt="")] * 5,
    )
    assert codes(problems)[:5] == [
        "too_long",
        "too_long",
        "first_comment_not_supported",
        "too_many_images",
        "image_format",
    ]
    assert [p.part for p in problems[:2]] == [0, 1]
