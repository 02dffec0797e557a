"""Duplicate detection keys and stream sort keys for mentions.

Exact duplicates, stored once per workspace:
- `url_key`: hash of the canonical URL (scheme-less, tracking parameters and fragment
  removed, host lower-cased, query parameters sorted);
- `guid_key`: hash of the source's own id, unique per source;
- `content_hash`: hash of network, author, title and text exactly as received.

Near-duplicates (syndicated copies, boosts, "RT @x: …"), grouped under the first mention as
MentionCopy rows: `near_key` is the hash of the first NEAR_WORDS words of the text once
folded, with URLs, @handles and a leading "RT"/"via" removed. A hash of a normalized prefix
is O(1) per item (one indexed column, looked up with the batch) and catches the common
cases: the same post boosted, the same article syndicated with a different footer or a
truncated summary. Texts shorter than NEAR_MIN_WORDS words ("Merci !") never group: too
many unrelated mentions share them.
"""

import hashlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tribu.listening.search import fold

NEAR_WORDS = 20
NEAR_MIN_WORDS = 6

TRACKING_PARAMETERS = {
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
    "_hsenc", "_hsmi", "ref_src", "ref_url", "spm", "si", "oly_anon_id", "oly_enc_id",
    "vero_id", "wickedid", "s_cid", "cmpid", "xtor",
}  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_")

_URL_IN_TEXT = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@[\w.-]+(?:@[\w.-]+)?")
_WORD = re.compile(r"[^\W_]+")
_BOOST_PREFIX = {"rt", "via", "mt"}

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def hash64(value):
    """A signed 64-bit hash (fits a BIGINT column on both databases)."""
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def canonical_url(url):
    """The URL without fragment and tracking parameters, host lower-cased, default port
    and empty path normalized. Returns "" for an empty or unparsable URL."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() not in TRACKING_PARAMETERS
        and not name.lower().startswith(TRACKING_PREFIXES)
    ]
    query.sort()
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query, doseq=True), ""))


def url_key(canonical):
    if not canonical:
        return None
    # http and https copies of a page are the same page.
    without_scheme = canonical.split("://", 1)[-1]
    return hash64(without_scheme)


def guid_key(guid):
    return hash64(guid) if guid else None


def content_hash(network, author, title, text):
    if not (title or text):
        return None
    return hash64("\x1f".join((network or "", author or "", title or "", text or "")))


def near_words(text):
    """The words that decide whether two texts are near-duplicates."""
    text = _HANDLE.sub(" ", _URL_IN_TEXT.sub(" ", text or ""))
    found = _WORD.findall(fold(text))
    while found and found[0] in _BOOST_PREFIX:
        found.pop(0)
    return found[:NEAR_WORDS]


def near_key(title, text):
    found = near_words(text) or near_words(title)
    if len(found) < NEAR_MIN_WORDS:
        return None
    return hash64(" ".join(found))


def base_sort_key(published_at):
    """Microseconds since the epoch: the stream's order."""
    return (published_at - EPOCH) // MICROSECOND


def allocate_sort_keys(bases, taken_among, taken_between):
    """Unique sort keys for `bases` (a list of ints), each the first free value at or
    after its base. `taken_among(keys)` and `taken_between(low, high)` return the set of
    keys already used (among those, or in that inclusive range).

    One query checks all the bases; a base that is taken (items of the same second, feeds
    with date-only precision) reads the used keys just after it and takes the next free
    one. The unique constraint on Mention.sort_key stays the last guard against races.
    """
    if not bases:
        return []
    taken = taken_among(set(bases))
    assigned = set()
    keys = []
    crowded = {}
    for base in bases:
        key = base
        if key in taken or key in assigned:
            if base not in crowded:
                # Enough room after this base for the whole batch.
                crowded[base] = taken_between(base, base + len(bases) + 1000)
            used = crowded[base]
            while key in used or key in assigned or key in taken:
                key += 1
        assigned.add(key)
        keys.append(key)
    return keys
