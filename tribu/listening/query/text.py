"""Text normalisation shared by the query parser, the evaluators and the search index.

`fold` makes comparisons case- and accent-insensitive ("École" -> "ecole", "Œuvre" ->
"oeuvre"); `tokenize` splits folded text into word tokens, drops French elisions
("l'avion" -> "avion") and the English possessive ("Tribu's" -> "tribu"), and keeps
hashtags ("#maisonlumiere") and handles ("@jeanne@mastodon.social") as single tokens.

This runs for every mention we ingest, so it leans on C-speed primitives: precompiled
regular expressions, `unicodedata.normalize` and an ASCII fast path.
"""

import re
import unicodedata
from urllib.parse import urlsplit

# Letters that NFKD does not decompose, plus typographic apostrophes (so that "l’avion"
# and "l'avion" fold alike).
_SPECIAL = {
    "œ": "oe",
    "Œ": "oe",
    "æ": "ae",
    "Æ": "ae",
    "ø": "o",
    "Ø": "o",
    "ł": "l",
    "Ł": "l",
    "đ": "d",
    "Đ": "d",
    "ð": "d",
    "Ð": "d",
    "þ": "th",
    "Þ": "th",
    "ß": "ss",
    "ẞ": "ss",
    "ı": "i",
    "’": "'",
    "‘": "'",
    "ʼ": "'",
    "ʹ": "'",
    "`": "'",
    "´": "'",
}
_SPECIAL_RE = re.compile("[" + "".join(_SPECIAL) + "]")
# The diacritics that NFKD splits off Latin, Greek and Cyrillic letters. (Not every
# combining mark: Indic vowel signs, for instance, are part of the word.)
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _special(match):
    return _SPECIAL[match.group()]


def fold(s: str) -> str:
    """Lower-case, accent-free form of `s` ("École" -> "ecole")."""
    if s.isascii():
        return s.lower()
    s = _SPECIAL_RE.sub(_special, s)
    s = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", s))
    return s.casefold()


# French elided words ("l'", "qu'", "jusqu'"...) are never tokens: "l'avion" gives "avion".
# Single letters "l", "d", "j", "m", "n", "s", "t", "c" are dropped wherever they stand,
# which also drops the English possessive ("Tribu's" -> "tribu"): standing alone they are
# almost always an elision cut off by the tokenizer. Other apostrophes separate words
# ("aujourd'hui" -> "aujourd", "hui"), the same way in queries and in documents.
ELISIONS = ("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu")
# An elision matches the first alternative and yields "", which `filter` drops.
_TOKEN_RE = re.compile(
    r"(?:jusqu|lorsqu|puisqu|qu|[ldjmnstc])\b"
    r"|([#@]\w+(?:[.\-@]\w+)*"  # hashtag, handle, @user@instance, @name.bsky.social
    r"|\w+)"
)


def tokenize(s: str) -> list[str]:
    """Folded tokens of `s`: words, "#hashtag" and "@handle" (or "@user@instance")."""
    # Fold first, then split: folding may itself separate words ("¼" -> "1⁄4").
    return list(filter(None, _TOKEN_RE.findall(s.lower() if s.isascii() else fold(s))))


def words(tokens: list[str]) -> list[str]:
    """The word stream that word queries search: a hashtag counts as its word ("#velo" is
    found by `velo`), a handle stays "@..." so only handle queries find it."""
    return [token[1:] if token[0] == "#" else token for token in tokens]


def hashtags(tokens) -> set[str]:
    return {token[1:] for token in tokens if token[0] == "#"}


def handles(tokens) -> set[str]:
    """Handles without "@": "@jeanne@mastodon.social" gives "jeanne@mastodon.social" and
    "jeanne", so `@jeanne` finds her on any instance."""
    found = set()
    for token in tokens:
        if token[0] == "@":
            handle = token[1:]
            found.add(handle)
            if "@" in handle:
                found.add(handle.partition("@")[0])
    return found


def host_suffixes(url: str) -> set[str]:
    """ "https://www.lemonde.fr/x" -> {"www.lemonde.fr", "lemonde.fr", "fr"}: `site:` finds
    a domain and its subdomains."""
    if not url:
        return set()
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    except ValueError:
        return set()
    host = fold(host).rstrip(".")
    if not host:
        return set()
    labels = host.split(".")
    return {".".join(labels[index:]) for index in range(len(labels))}


def normalize_site(value: str) -> str:
    """What a `site:` value means: the host, without scheme, path, port or "www."."""
    value = fold(value.strip())
    if "//" in value:
        value = value.split("//", 1)[1]
    value = value.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].strip(".")
    if value.startswith("www."):
        value = value[4:]
    return value


def languages(lang: str) -> set[str]:
    """ "fr-CA" -> {"fr-ca", "fr"}: `lang:fr` finds every French variant."""
    lang = fold(lang.strip()).replace("_", "-")
    if not lang:
        return set()
    return {lang, lang.split("-", 1)[0]}
