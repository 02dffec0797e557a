"""What each network accepts in a post, counted the way that network counts.

Pure Python (no database, no HTTP): the composer's live counter (htmx), the API and the
publisher call the same functions, so a post the composer accepts is a post the network
accepts. Sources: docs/networks.md in the shared folder, sections 1 to 7 and the table in 11.

How each network counts (`count()`):

- **Mastodon**: grapheme clusters (what a reader sees as one character: "é", "👍🏽", a flag),
  after replacing every http(s) URL with `characters_reserved_per_url` characters (23) and
  every `@user@domain` mention with `@user`; 500 by default. An instance sets its own limits:
  pass them in `limits` ({"max_characters", "characters_reserved_per_url"}).
- **Bluesky**: 300 grapheme clusters *and* 3,000 UTF-8 bytes. URLs count in full: Bluesky does
  not shorten links.
- **X**: the weighted length of twitter-text v3 (`x_weighted_length()` documents the rules);
  280 by default, `limits["max_characters"]` for accounts allowed longer posts.
- **LinkedIn**: 3,000 characters of the text as written (the backslashes that
  `linkedin_escape()` adds before publishing do not count). Unverified in LinkedIn's API docs.
- **Facebook Page**: 63,206 characters. **Instagram**: 2,200 characters, at most 30 hashtags
  and 20 @-mentions. **Threads**: 500, where an emoji counts its UTF-8 byte length (4 for 😀,
  25 for a family) and anything else counts 1 per character.

"Characters" on LinkedIn, Facebook, Instagram and Threads are Unicode code points (Python's
`len`); those networks document no finer rule.

URLs (`find_urls()`) follow twitter-text's shape, which Mastodon also uses: `http://` or
`https://`, a host with a dot, an optional port, path and query; trailing punctuation (". , ! ?
: ;" and an unbalanced ")") is not part of the URL, balanced parentheses are (Wikipedia
links). Path letters are Latin and Cyrillic ones, as in twitter-text; Mastodon also accepts
other scripts in paths, so for a URL followed by, say, Japanese with no space we count a few
characters more than Mastodon does (never fewer). Only X links bare domains; see
`find_urls()` for the TLD rule.

`validate()` returns the Problems of a post for one network (too long, empty, media count,
size, format and shape, alt text, threads and first comments where the network has none).
X refuses a post identical to a recent one; that needs the account's history and is not
checked here.
"""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import regex
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu.channels.models import Network

# --- URLs ------------------------------------------------------------------------------------

# Generic top-level domains recognised in bare domains (X only). twitter-text embeds IANA's
# whole list (about 1,500 names); these are the common ones, plus the French regional ones.
# Every two-letter TLD counts as a country code (see find_urls()).
_GENERIC_TLD_LIST = """
    com net org edu gov mil int info biz name pro aero asia cat coop jobs mobi museum tel
    travel post app dev page blog shop store online site website tech cloud xyz club art
    design news media live studio agency email link social world today group team solutions
    services space digital network systems software tools academy education school
    university college company business consulting marketing events community foundation
    fund finance bank money credit tax legal law lawyer health care clinic dental dentist
    hospital fitness yoga golf tennis football rugby run bike auto car cars taxi voyage hotel
    restaurant cafe bar pizza wine beer coffee kitchen recipes farm garden green eco energy
    solar immo house homes realty properties estate rent rentals build construction
    engineering repair cleaning training courses institute science earth global
    international vision zone center city town land place directory domains host hosting one
    top vip work works career careers ltd inc llc gmbh bio eus gal scot wales cymru paris
    bzh alsace corsica berlin london nyc tokyo brussels quebec swiss africa amsterdam
    barcelona lol fun game games music film movie video photo photos photography pics
    gallery fashion style beauty hair makeup boutique market sale deals discount gift gifts
    toys kids family life love wedding help support guide wiki press report review reviews
    chat forum menu show tips plus expert rocks ninja guru codes ventures capital partners
    holdings industries limited management associates ngo ong charity church new now click
    download stream buzz fyi cool best ovh
"""
GENERIC_TLDS = frozenset(_GENERIC_TLD_LIST.split())
# twitter-text's "special short domains": a bare name.co or name.tv is a URL without a path.
_SPECIAL_SHORT_TLDS = frozenset({"co", "tv"})

# Characters of a URL path, and those a path may end with (twitter-text's classes).
_PATH_LETTERS = r"\p{Latin}\p{Cyrillic}"
_PATH_CHAR = rf"[{_PATH_LETTERS}0-9!*';:=+,.$/%#\[\]\-\u2013_~&|@]"
_PATH_END = rf"[{_PATH_LETTERS}0-9=_#/+\-]"
_PARENS = rf"\((?:{_PATH_CHAR}|\({_PATH_CHAR}*\))*\)"  # one level of nesting, as twitter-text
_PATH = rf"/(?:(?:{_PATH_CHAR}|{_PARENS})*(?:{_PATH_END}|{_PARENS}))?"
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"
_PORT = r":[0-9]{1,5}"
# Labels are capped at 63 characters (DNS) and subdomains at 10: both bound the regex's
# backtracking, which otherwise grows with the square of the length on "a.a.a.a…".
_HOST_LABEL = r"[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}_\-]{0,61}[\p{L}\p{N}\p{M}])?"
_HOST_TLD = r"(?:xn--[a-z0-9\-]{1,59}|\p{L}[\p{L}\p{M}]{1,62})(?![\p{L}\p{N}\p{M}_@+\-])"
_ASCII_SUBLABEL = r"[a-z0-9](?:[a-z0-9_\-]{0,61}[a-z0-9])?"
_ASCII_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_ASCII_TLD = r"(?:xn--[a-z0-9\-]{1,59}|[a-z]{2,63})(?![a-z0-9@+\-])"

# A URL is not glued to a word, an @ (an email address) or a $/# (cashtag, hashtag).
_SCHEME_URL = (
    rf"(?<![\p{{L}}\p{{N}}@＠$#＃])https?://(?:{_HOST_LABEL}\.){{1,10}}{_HOST_TLD}"
    rf"(?:{_PORT})?(?:{_PATH})?(?:{_QUERY})?"
)
# A bare domain is not preceded by "-", "_", "." or "/" either (twitter-text).
_BARE_URL = (
    rf"(?<![\p{{L}}\p{{N}}@＠$#＃\-_./])(?P<subs>(?:{_ASCII_SUBLABEL}\.){{0,10}})"
    rf"{_ASCII_LABEL}\.(?P<tld>{_ASCII_TLD})(?:{_PORT})?(?P<path>{_PATH})?(?:{_QUERY})?"
)
SCHEME_URL_RE = regex.compile(_SCHEME_URL, regex.IGNORECASE)
ANY_URL_RE = regex.compile(rf"(?:{_SCHEME_URL})|(?:{_BARE_URL})", regex.IGNORECASE)


def find_urls(text, *, bare_domains=False):
    """The (start, end) spans of the URLs in `text`, in order.

    http:// and https:// URLs always. With `bare_domains` (X links "example.com/page" too),
    also domains without a scheme, like twitter-text: ASCII labels, then a known TLD, that is
    a generic TLD of GENERIC_TLDS, any two-letter TLD (taken as a country code, IANA's exact
    list is not embedded) or a punycode one (xn--…). As in twitter-text, a single name under a
    country code without a path is not a URL ("example.fr" is text, "example.fr/page",
    "www.example.fr" and "example.co" are URLs), and an email address is not a URL.
    """
    if not bare_domains:
        return [match.span() for match in SCHEME_URL_RE.finditer(text)]
    spans = []
    for match in ANY_URL_RE.finditer(text):
        tld = match.group("tld")
        if tld is not None:
            tld = tld.lower()
            if not tld.startswith("xn--") and len(tld) > 2 and tld not in GENERIC_TLDS:
                continue
            single_name = not match.group("subs")
            if (
                len(tld) == 2
                and single_name
                and not match.group("path")
                and tld not in _SPECIAL_SHORT_TLDS
            ):
                continue
        spans.append(match.span())
    return spans


# --- Hashtags and mentions -------------------------------------------------------------------

HASHTAG_RE = regex.compile(r"(?<![\p{L}\p{M}\p{N}_&])[#＃](?P<tag>[\p{L}\p{M}\p{N}_]+)")
# Instagram usernames: letters, digits, periods and underscores, at most 30. Not after a
# letter or digit, so an email address is not a mention.
INSTAGRAM_MENTION_RE = regex.compile(r"(?<![\p{L}\p{N}_.@])@[A-Za-z0-9._]{1,30}")
# Mastodon's Account::MENTION_RE: @user, optionally @domain.
MASTODON_MENTION_RE = regex.compile(
    r"(?<![=/\p{L}\p{N}])@(?P<user>[a-z0-9_]+(?:[.\-]+[a-z0-9_]+)*)"
    r"(?:@[\p{L}\p{N}.\-]+[\p{L}\p{N}])?",
    regex.IGNORECASE,
)
# Mastodon drops a "mention" followed by another @, an accented Latin letter or "://".
_MENTION_BAD_END = regex.compile(r"[@＠\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f]|://")


def _outside(spans, start, end):
    return all(end <= s or start >= e for s, e in spans)


def find_hashtags(text, *, urls=None):
    """The hashtags of `text` as (start, end, tag) with the tag without its '#', leaving out
    what sits inside a URL (a page anchor)."""
    urls = find_urls(text, bare_domains=True) if urls is None else urls
    return [
        (m.start(), m.end(), m.group("tag"))
        for m in HASHTAG_RE.finditer(text)
        if _outside(urls, m.start(), m.end())
    ]


def _instagram_mentions(text, urls):
    return [m for m in INSTAGRAM_MENTION_RE.finditer(text) if _outside(urls, *m.span())]


# --- Counting --------------------------------------------------------------------------------

GRAPHEME_RE = regex.compile(r"\X")
# A grapheme cluster shown as one emoji. © and ® are emoji only with the emoji variation
# selector U+FE0F (twemoji's rule, which twitter-text uses); a pictograph followed by the
# text variation selector U+FE0E is text. Flags are pairs of regional indicators; keycaps
# are [#*0-9], an optional U+FE0F, then U+20E3.
EMOJI_RE = regex.compile(
    r"[\u00a9\u00ae]\ufe0f"
    r"|(?![\u00a9\u00ae])\p{Extended_Pictographic}(?!\ufe0e)"
    r"|\p{Regional_Indicator}"
    r"|[#*0-9]\ufe0f?\u20e3"
)
# twitter-text v3: code points in these ranges weigh 1, all others 2.
X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
X_URL_WEIGHT = 23
X_EMOJI_WEIGHT = 2


def graphemes(text):
    """The number of grapheme clusters: what a reader counts as characters."""
    return sum(1 for _match in GRAPHEME_RE.finditer(text))


def is_emoji(cluster):
    """Whether one grapheme cluster is displayed as an emoji (EMOJI_RE)."""
    return EMOJI_RE.match(cluster) is not None


def utf8_length(text):
    # "surrogatepass": a lone surrogate from a JSON escape must not crash the counter.
    return len(text.encode("utf-8", "surrogatepass"))


def _x_code_point_weight(char):
    code = ord(char)
    return 1 if any(low <= code <= high for low, high in X_LIGHT_RANGES) else 2


def _x_weigh(segment):
    weight = 0
    for cluster in GRAPHEME_RE.findall(segment):
        if is_emoji(cluster):
            weight += X_EMOJI_WEIGHT
        else:
            weight += sum(_x_code_point_weight(char) for char in cluster)
    return weight


def x_weighted_length(text):
    """The weighted length of `text` on X, as twitter-text v3's `parseTweet().weightedLength`.

    1. The text is NFC-normalised (an "e" plus a combining accent becomes one "é").
    2. Every URL weighs 23, whatever its length (X shortens it to a t.co link). URLs with a
       scheme and bare domains count (find_urls(bare_domains=True)).
    3. Every emoji weighs 2 in total: a ZWJ sequence (👨‍👩‍👧‍👦), a skin tone (👍🏽), a
       flag (🇫🇷), a keycap (1️⃣), an emoji with U+FE0F. One grapheme cluster (Unicode's
       extended grapheme rules) is one emoji; twitter-text knows only the standard (RGI)
       sequences, so a non-standard ZWJ combination of three emoji weighs 2 here and 5 on X.
       Bare © and ® are text (weight 1), as for twemoji.
    4. Any other code point weighs 1 in the ranges 0–4351 (Latin with its accents, Greek,
       Cyrillic, Hebrew, Arabic, Indic scripts…), 8192–8205 (spaces, ZWJ), 8208–8223
       (dashes, quotes) and 8242–8247 (primes), and 2 otherwise (Chinese, Japanese, Korean,
       most symbols, anything outside the Basic Multilingual Plane).
    """
    text = unicodedata.normalize("NFC", text)
    weight = 0
    position = 0
    for start, end in find_urls(text, bare_domains=True):
        weight += _x_weigh(text[position:start]) + X_URL_WEIGHT
        position = end
    return weight + _x_weigh(text[position:])


def threads_length(text):
    """Threads' count: an emoji counts its UTF-8 byte length, anything else 1 per code point."""
    length = 0
    for cluster in GRAPHEME_RE.findall(text):
        length += utf8_length(cluster) if is_emoji(cluster) else len(cluster)
    return length


def mastodon_countable(text, *, url_length=23):
    """The text as a Mastodon server counts it: each URL replaced by `url_length` characters,
    each `@user@domain` mention by `@user` (app/validators/status_length_validator.rb)."""
    entities = [(start, end, "x" * url_length) for start, end in find_urls(text)]
    for match in MASTODON_MENTION_RE.finditer(text):
        if _MENTION_BAD_END.match(text, match.end()):
            continue
        entities.append((match.start(), match.end(), "@" + match.group("user")))
    # Overlapping entities: the first one wins (Extractor.remove_overlapping_entities).
    entities.sort(key=lambda entity: entity[0])
    parts = []
    position = 0
    for start, end, replacement in entities:
        if start < position:
            continue
        parts += [text[position:start], replacement]
        position = end
    parts.append(text[position:])
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Count:
    """A text measured for one network. `length` and `maximum` are in the network's unit
    (`unit`, a label for people); `rule` says in plain words how the network counts.
    Bluesky also limits bytes: `byte_length` and `max_bytes` are set there, None elsewhere,
    and `over` is true when either limit is passed."""

    network: str
    length: int
    maximum: int
    remaining: int
    over: bool
    unit: str
    rule: str
    byte_length: int | None = None
    max_bytes: int | None = None


MAX_CHARACTERS = {
    Network.MASTODON: 500,
    Network.BLUESKY: 300,
    Network.X: 280,
    Network.LINKEDIN: 3000,
    Network.FACEBOOK: 63206,
    Network.INSTAGRAM: 2200,
    Network.THREADS: 500,
}
BLUESKY_MAX_BYTES = 3000
MASTODON_URL_LENGTH = 23
INSTAGRAM_MAX_HASHTAGS = 30
INSTAGRAM_MAX_MENTIONS = 20


def _network(network):
    try:
        return Network(network)
    except ValueError:
        raise ValueError(f"unknown network: {network!r}") from None


def _limit(limits, key, default):
    """A positive integer from the channel's limits (what the network reported), else the
    default: a missing or nonsensical value never disables a check."""
    value = (limits or {}).get(key)
    if isinstance(value, bool):
        return default
    try:
        value = int(value)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def _rule(network, url_length):
    if network == Network.MASTODON:
        return _(
            "Each link counts as %(url_length)s characters, and a mention as its user name "
            "only (@alice for @alice@example.social)."
        ) % {"url_length": url_length}
    if network == Network.BLUESKY:
        return _("Links count in full. Emoji and accented letters also use up the byte limit.")
    if network == Network.X:
        return _(
            "Each link counts as 23 characters; emoji and Chinese, Japanese or Korean "
            "characters count as 2."
        )
    if network == Network.THREADS:
        return _("Each emoji counts as several characters (4 for most of them).")
    return _("Every character counts, including spaces and line breaks.")


def count(network, text, *, limits=None):
    """Measure `text` for `network` (a Network value). `limits` is the channel's reported
    limits: "max_characters" for any network, "characters_reserved_per_url" for Mastodon."""
    network = _network(network)
    text = text or ""
    maximum = _limit(limits, "max_characters", MAX_CHARACTERS[network])
    url_length = _limit(limits, "characters_reserved_per_url", MASTODON_URL_LENGTH)
    byte_length = max_bytes = None
    if network == Network.MASTODON:
        length = graphemes(mastodon_countable(text, url_length=url_length))
    elif network == Network.BLUESKY:
        length = graphemes(text)
        byte_length, max_bytes = utf8_length(text), BLUESKY_MAX_BYTES
    elif network == Network.X:
        length = x_weighted_length(text)
    elif network == Network.THREADS:
        length = threads_length(text)
    else:
        length = len(text)
    over = length > maximum or (max_bytes is not None and byte_length > max_bytes)
    return Count(
        network=network.value,
        length=length,
        maximum=maximum,
        remaining=maximum - length,
        over=over,
        unit=_("characters"),
        rule=_rule(network, url_length),
        byte_length=byte_length,
        max_bytes=max_bytes,
    )


# --- LinkedIn --------------------------------------------------------------------------------

LINKEDIN_RESERVED = frozenset("\\|{}@[]()<>#*_~")


def linkedin_escape(text):
    """The text as LinkedIn's "little" text format needs it in `commentary`: every reserved
    character (\\ | { } @ [ ] ( ) < > # * _ ~) preceded by a backslash.

    Everything is escaped, hashtags and @ included, so the post reads exactly as written:
    unescaped characters make LinkedIn truncate or refuse the text. The price is that
    hashtags show as plain text rather than as LinkedIn's hashtag links, and that @-names
    are not mentions (a mention needs the member's or page's URN, which the composer does
    not know); `{hashtag|\\#|tag}` templates would be a later, separate step.
    """
    return "".join("\\" + char if char in LINKEDIN_RESERVED else char for char in text)


# --- Validation ------------------------------------------------------------------------------

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something to fix (error: the network would refuse the post) or to consider (warning).
    `code` is stable, for programs and tests; `message` is translated, says what is wrong and
    how to fix it. `part` is the index of the text concerned (0 the main text, 1… the thread's
    follow-ups), `media` the index of the image (0-based), `position` and `length` a span of
    the text (in characters) to highlight; each is None when it does not apply."""

    code: str
    message: str
    severity: str = ERROR
    part: int | None = None
    media: int | None = None
    position: int | None = None
    length: int | None = None


JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
FORMAT_NAMES = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WebP"}
_CONTENT_TYPE_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG}


@dataclass(frozen=True)
class MediaRules:
    max_images: int
    formats: tuple
    # Decimal megabytes (5 MB = 5,000,000 bytes): at or a little under each network's limit.
    max_bytes: int
    max_gif_bytes: int | None = None
    warn_bytes: int | None = None  # above this, a warning (Bluesky's older servers)
    max_alt: int | None = None
    max_pixels: int | None = None


# Sources: docs/networks.md. Where the docs give no figure, the network's help pages:
# LinkedIn asks for images under 5 MB (its API documents only the 36,152,320-pixel cap),
# Threads for JPEG or PNG up to 8 MB, Facebook for JPEG, PNG or GIF under 4 MB.
MEDIA_RULES = {
    Network.MASTODON: MediaRules(4, (JPEG, PNG, GIF, WEBP), 16_000_000, max_alt=1500),
    Network.BLUESKY: MediaRules(4, (JPEG, PNG, GIF, WEBP), 2_000_000, warn_bytes=1_000_000),
    Network.X: MediaRules(4, (JPEG, PNG, GIF, WEBP), 5_000_000, 15_000_000, max_alt=1000),
    Network.LINKEDIN: MediaRules(20, (JPEG, PNG, GIF), 5_000_000, max_pixels=36_152_320),
    Network.FACEBOOK: MediaRules(10, (JPEG, PNG, GIF), 4_000_000),
    Network.INSTAGRAM: MediaRules(10, (JPEG,), 8_000_000),
    Network.THREADS: MediaRules(20, (JPEG, PNG), 8_000_000),
}
# Networks that chain replies into a thread, and those that offer a first comment instead.
THREAD_NETWORKS = frozenset({Network.MASTODON, Network.BLUESKY, Network.X, Network.THREADS})
# The first comment's own limit (a comment, not a post): LinkedIn 1,250, Facebook 8,000,
# Instagram 2,200 (help pages; unverified against the APIs).
FIRST_COMMENT_MAX = {Network.LINKEDIN: 1250, Network.FACEBOOK: 8000, Network.INSTAGRAM: 2200}
# Instagram feed images: width / height between 4:5 and 1.91:1, compared at two decimals
# (1200×628, the usual link image, is 1.9108 and accepted as 1.91).
INSTAGRAM_MIN_RATIO = Decimal("0.80")
INSTAGRAM_MAX_RATIO = Decimal("1.91")


def _number(value):
    return number_format(value, force_grouping=True)


def _megabytes(size):
    """2,000,000 → "2 MB", 1,540,000 → "1.54 MB" (decimal megabytes, localised)."""
    value = (Decimal(size) / 1_000_000).quantize(Decimal("0.01")).normalize()
    return _("%(size)s MB") % {"size": number_format(value)}


def _label(network):
    return str(Network(network).label)


def _content_type(media):
    value = str(media.get("content_type") or "").split(";")[0].strip().lower()
    return _CONTENT_TYPE_ALIASES.get(value, value)


def _format_name(content_type):
    if content_type in FORMAT_NAMES:
        return FORMAT_NAMES[content_type]
    return content_type.rpartition("/")[2].upper() or _("unknown")


def _int_or_none(value):
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _length_problems(network, text, *, part, limits):
    measured = count(network, text, limits=limits)
    label = _label(network)
    problems = []
    if measured.length > measured.maximum:
        excess = measured.length - measured.maximum
        values = {
            "network": label,
            "length": _number(measured.length),
            "maximum": _number(measured.maximum),
            "excess": _number(excess),
            "part": part + 1,
        }
        if part == 0:
            message = ngettext(
                "Too long for %(network)s: %(length)s characters out of %(maximum)s. "
                "Shorten it by %(excess)s character.",
                "Too long for %(network)s: %(length)s characters out of %(maximum)s. "
                "Shorten it by %(excess)s characters.",
                excess,
            )
        else:
            message = ngettext(
                "Part %(part)s of the thread is too long for %(network)s: %(length)s "
                "characters out of %(maximum)s. Shorten it by %(excess)s character or move "
                "the end to the next part.",
                "Part %(part)s of the thread is too long for %(network)s: %(length)s "
                "characters out of %(maximum)s. Shorten it by %(excess)s characters or move "
                "the end to the next part.",
                excess,
            )
        problems.append(Problem("too_long", message % values, part=part))
    if measured.max_bytes is not None and measured.byte_length > measured.max_bytes:
        message = _(
            "Too long for %(network)s: %(bytes)s bytes out of %(max_bytes)s (emoji and "
            "accented letters take several bytes each). Shorten it or use fewer emoji."
        ) % {
            "network": label,
            "bytes": _number(measured.byte_length),
            "max_bytes": _number(measured.max_bytes),
        }
        problems.append(Problem("too_many_bytes", message, part=part))
    return problems


def _instagram_caps(text, *, part, where, urls=None):
    """Instagram's 30 hashtags and 20 @-mentions, in the caption or the first comment."""
    urls = find_urls(text, bare_domains=True) if urls is None else urls
    problems = []
    hashtags = len(find_hashtags(text, urls=urls))
    if hashtags > INSTAGRAM_MAX_HASHTAGS:
        excess = hashtags - INSTAGRAM_MAX_HASHTAGS
        message = _(
            "Too many hashtags for Instagram in %(where)s: %(count)s out of %(maximum)s. "
            "Remove %(excess)s."
        ) % {"where": where, "count": hashtags, "maximum": INSTAGRAM_MAX_HASHTAGS, "excess": excess}
        problems.append(Problem("too_many_hashtags", message, part=part))
    mentions = len(_instagram_mentions(text, urls))
    if mentions > INSTAGRAM_MAX_MENTIONS:
        excess = mentions - INSTAGRAM_MAX_MENTIONS
        message = _(
            "Too many @-mentions for Instagram in %(where)s: %(count)s out of %(maximum)s. "
            "Remove %(excess)s."
        ) % {"where": where, "count": mentions, "maximum": INSTAGRAM_MAX_MENTIONS, "excess": excess}
        problems.append(Problem("too_many_mentions", message, part=part))
    return problems


def _text_problems(network, text, thread, media, limits):
    problems = []
    label = _label(network)
    # On Instagram the missing image is the problem, reported with the media.
    if not text.strip() and not media and network != Network.INSTAGRAM:
        message = _("The post is empty. Write some text or add an image.")
        problems.append(Problem("empty", message, part=0))
    problems += _length_problems(network, text, part=0, limits=limits)
    if network == Network.INSTAGRAM:
        urls = find_urls(text, bare_domains=True)
        problems += _instagram_caps(text, part=0, where=_("the caption"), urls=urls)
        if urls:
            message = _(
                "Links are not clickable in Instagram captions. Point readers to the link in "
                "your profile instead, or leave the link out."
            )
            problems.append(Problem("link_not_clickable", message, WARNING, part=0))
    written = [index for index, part in enumerate(thread, start=1) if part.strip()]
    if network in THREAD_NETWORKS:
        for index, part in enumerate(thread, start=1):
            if not part.strip():
                message = _("Part %(part)s of the thread is empty. Write something or remove it.")
                problems.append(Problem("empty_part", message % {"part": index + 1}, part=index))
            else:
                problems += _length_problems(network, part, part=index, limits=limits)
    elif written:
        message = _(
            "%(network)s has no threads: only the main text would be published. Move the "
            "follow-up into the first comment, or into the main text."
        ) % {"network": label}
        problems.append(Problem("thread_not_supported", message, part=written[0]))
    return problems


def _first_comment_problems(network, first_comment):
    if not first_comment.strip():
        return []
    label = _label(network)
    if network in THREAD_NETWORKS:
        message = _(
            "%(network)s has no first comment. Write it as the next part of a thread instead: "
            "it is published as a reply to your post."
        ) % {"network": label}
        return [Problem("first_comment_not_supported", message)]
    problems = []
    length, maximum = len(first_comment), FIRST_COMMENT_MAX[network]
    if length > maximum:
        excess = length - maximum
        message = ngettext(
            "The first comment is too long for %(network)s: %(length)s characters out of "
            "%(maximum)s. Shorten it by %(excess)s character.",
            "The first comment is too long for %(network)s: %(length)s characters out of "
            "%(maximum)s. Shorten it by %(excess)s characters.",
            excess,
        ) % {
            "network": label,
            "length": _number(length),
            "maximum": _number(maximum),
            "excess": _number(excess),
        }
        problems.append(Problem("first_comment_too_long", message))
    if network == Network.INSTAGRAM:
        problems += _instagram_caps(first_comment, part=None, where=_("the first comment"))
    return problems


def _media_problems(network, media, limits):
    rules = MEDIA_RULES[network]
    label = _label(network)
    problems = []
    if network == Network.INSTAGRAM and not media:
        message = _("Instagram needs at least one image. Add an image.")
        problems.append(Problem("image_required", message))
    max_images = rules.max_images
    if network == Network.MASTODON:
        # The instance's own figure; "max_media" is accepted as an older name.
        max_images = _limit(limits, "max_media_attachments", _limit(limits, "max_media", 4))
    if len(media) > max_images:
        excess = len(media) - max_images
        message = ngettext(
            "Too many images for %(network)s: %(count)s out of %(maximum)s. "
            "Remove %(excess)s image.",
            "Too many images for %(network)s: %(count)s out of %(maximum)s. "
            "Remove %(excess)s images.",
            excess,
        ) % {"network": label, "count": len(media), "maximum": max_images, "excess": excess}
        problems.append(Problem("too_many_images", message))
    max_bytes = rules.max_bytes
    if network == Network.MASTODON:
        max_bytes = _limit(limits, "image_size_limit", max_bytes)
    max_alt = rules.max_alt
    if network == Network.MASTODON:
        max_alt = _limit(limits, "description_limit", max_alt)
    for index, item in enumerate(media):
        problems += _one_media_problems(network, rules, index, item, max_bytes, max_alt)
    if network == Network.X and len(media) > 1 and any(_content_type(m) == GIF for m in media):
        message = _(
            "X publishes an animated GIF only on its own. If the GIF moves, post it alone or "
            "convert it to a still image."
        )
        problems.append(Problem("gif_not_alone", message, WARNING))
    return problems


def _one_media_problems(network, rules, index, item, max_bytes, max_alt):
    label = _label(network)
    problems = []
    number = index + 1
    content_type = _content_type(item)
    if content_type not in rules.formats:
        message = _(
            "Image %(number)s is in %(format)s format, which %(network)s does not accept. Save "
            "it in one of these formats: %(formats)s."
        ) % {
            "number": number,
            "format": _format_name(content_type),
            "network": label,
            "formats": ", ".join(FORMAT_NAMES[f] for f in rules.formats),
        }
        problems.append(Problem("image_format", message, media=index))
    size = _int_or_none(item.get("size"))
    limit = rules.max_gif_bytes if content_type == GIF and rules.max_gif_bytes else max_bytes
    if size is not None and size > limit:
        message = _(
            "Image %(number)s is too big for %(network)s: %(size)s, the limit is %(maximum)s. "
            "Resize or compress it."
        ) % {
            "number": number,
            "network": label,
            "size": _megabytes(size),
            "maximum": _megabytes(limit),
        }
        problems.append(Problem("image_too_big", message, media=index))
    elif size is not None and rules.warn_bytes and size > rules.warn_bytes:
        message = _(
            "Image %(number)s weighs %(size)s. %(network)s accepts up to %(maximum)s, but some "
            "of its servers still refuse images over %(safe)s. Compress it under %(safe)s to be "
            "safe."
        ) % {
            "number": number,
            "network": label,
            "size": _megabytes(size),
            "maximum": _megabytes(limit),
            "safe": _megabytes(rules.warn_bytes),
        }
        problems.append(Problem("image_heavy", message, WARNING, media=index))
    width, height = _int_or_none(item.get("width")), _int_or_none(item.get("height"))
    if width and height and width > 0 and height > 0:
        if network == Network.INSTAGRAM:
            ratio = (Decimal(width) / Decimal(height)).quantize(Decimal("0.01"))
            if not INSTAGRAM_MIN_RATIO <= ratio <= INSTAGRAM_MAX_RATIO:
                message = _(
                    "Image %(number)s is %(width)s×%(height)s pixels, a shape Instagram refuses "
                    "in the feed. Crop it between portrait 4:5 and landscape 1.91:1."
                ) % {"number": number, "width": width, "height": height}
                problems.append(Problem("image_aspect_ratio", message, media=index))
        if rules.max_pixels and width * height > rules.max_pixels:
            message = _(
                "Image %(number)s is too large for %(network)s: %(width)s×%(height)s pixels. "
                "Resize it under %(megapixels)s million pixels."
            ) % {
                "number": number,
                "network": label,
                "width": width,
                "height": height,
                "megapixels": rules.max_pixels // 1_000_000,
            }
            problems.append(Problem("image_too_many_pixels", message, media=index))
    alt = str(item.get("alt") or "")
    if not alt.strip():
        message = _(
            "Image %(number)s has no description (alt text). Describe it for people who cannot "
            "see it."
        ) % {"number": number}
        problems.append(Problem("missing_alt_text", message, WARNING, media=index))
    elif max_alt and len(alt) > max_alt:
        message = _(
            "The description of image %(number)s is too long for %(network)s: %(length)s "
            "characters out of %(maximum)s. Shorten it."
        ) % {
            "number": number,
            "network": label,
            "length": _number(len(alt)),
            "maximum": _number(max_alt),
        }
        problems.append(Problem("alt_text_too_long", message, media=index))
    return problems


def validate(network, *, text, thread=(), first_comment="", media=(), limits=None):
    """The Problems of a post for `network`, errors and warnings, in reading order: the text,
    the thread, the first comment, then the images.

    `thread` holds the follow-up parts (the main text is part 0). `media` is a sequence of
    dicts {"content_type", "size", "width", "height", "alt"}; a missing key skips the checks
    that need it. `limits` is the channel's reported limits (Mastodon instances:
    "max_characters", "characters_reserved_per_url", "max_media_attachments",
    "image_size_limit", "description_limit")."""
    network = _network(network)
    text = text or ""
    thread = [part or "" for part in thread or ()]
    media = list(media or ())
    return (
        _text_problems(network, text, thread, media, limits)
        + _first_comment_problems(network, first_comment or "")
        + _media_problems(network, media, limits)
    )
