"""All topics compiled into one matcher: a pre-filter on anchor terms, then an exact check.

In the spirit of Lucene Monitor's presearcher: each query gets *anchors*, keys of which
any matching document must contain at least one (an OR needs the anchors of all its
branches, an AND those of its most selective branch, a NOT none). A document is reduced
to the set of its keys (words, field-qualified words, hashtags, handles, site, language,
network); its keys look up candidate topics in one dict, and only the candidates run
their compiled check. Topics that are a word or an OR of words and values skip the check:
their anchor hit is the match.

Keys: a word of the title or text is itself ("lampe"), "#tag" a hashtag; other fields
are prefixed ("t:" title, "a:" author, "s:" source, "h:" handle, "site:", "lang:",
"network:"). Words contain none of ":#" so the namespaces never collide.

`match` gives exactly the topics for which `evaluate` is true (proved by the hypothesis
tests in tests/listening/query/test_matcher.py).
"""

import codecs
import functools
import re
import unicodedata

from .analysis import GAP_TOKEN, gap_size
from .ast import And, Near, Not, Or, Phrase, Term, Value, Wildcard
from .text import ELISIONS, fold, host_suffixes, languages, tokenize

_FIELD_PREFIX = {"text": "", "title": "t:", "author": "a:", "source": "s:"}
_VALUE_PREFIX = {
    "hashtag": "#",
    "handle": "h:",
    "site": "site:",
    "lang": "lang:",
    "network": "network:",
}

# Frequent words make poor anchors: an AND prefers any other branch to these.
_COMMON = frozenset(
    [
        "a",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "en",
        "est",
        "et",
        "eux",
        "il",
        "ils",
        "je",
        "la",
        "le",
        "les",
        "leur",
        "lui",
        "ma",
        "mais",
        "me",
        "meme",
        "mes",
        "moi",
        "mon",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "sa",
        "se",
        "ses",
        "son",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "y",
        "ete",
        "etre",
        "avoir",
        "fait",
        "plus",
        "tout",
        "tres",
        "bien",
        "comme",
        "sans",
        "cette",
        "aussi",
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "it",
        "that",
        "for",
        "on",
        "with",
        "as",
        "was",
        "be",
        "at",
        "by",
        "this",
        "are",
        "or",
        "from",
        "an",
        "but",
        "not",
        "have",
        "has",
        "had",
        "they",
        "you",
        "we",
        "he",
        "she",
        "his",
        "her",
        "its",
        "our",
        "their",
        "will",
        "can",
        "all",
        "about",
        "more",
        "new",
        "one",
        "so",
        "if",
        "what",
        "when",
        "which",
        "who",
        "just",
        "get",
        "like",
    ]
)
# Characters that fold to "#" or "@": only then can a token be a hashtag or a handle.
_MARKS = re.compile("[#@\uff03\ufe5f\uff20\ufe6b]")
_CACHE_LIMIT = 1_000_000  # distinct tokens remembered between documents (~100 MB at most)


def _key_cost(key):
    if key.startswith(("lang:", "network:")):
        return 1000.0
    if key.startswith("site:"):
        return 50.0
    word = key.split(":", 1)[1] if ":" in key else key.lstrip("#")
    if word in _COMMON:
        return 100.0
    return 1.0 + 8.0 / (1 + len(word))


class Matcher:
    """Topics by id; `match(document)` returns the sorted ids of the topics it matches."""

    def __init__(self):
        self._queries = {}  # topic id -> root node
        self._anchors = {}  # topic id -> [("key", key) | ("wild", wildcard id)]
        self._by_key = {}  # key -> set of topic ids anchored on it
        self._watched = {}  # key -> number of leaves that test it (anchors or not)
        self._wildcards = {}  # (key prefix, pattern) -> wildcard id
        self._wild_info = {}  # wildcard id -> [key prefix, compiled regex, topic ids, uses]
        self._wild_by_start = {}  # key prefix + 2 first letters -> [wildcard ids]
        self._next_wid = 0
        self._checks = {}  # topic id -> compiled check, or None when the anchor is the match
        self._always = frozenset()  # topics without anchors (never for parsed queries)
        self._sufficient = {}  # topic id -> the anchors whose presence proves the match
        # Per-key knowledge, filled as documents bring new tokens (see _learn). A probe is
        # what a document offers: a word, a hashtag, a handle token or a prefixed key, each
        # its own key; title words have their own tables (their key is "t:" + word).
        self._seen = set()  # probes already classified
        self._hot = set()  # the probes (their own key) that some topic tests
        self._title_seen = set()
        self._title_hot = set()
        self._title_key_of = {}
        self._info = {}  # key -> (exact topics, topics to check, wildcard ids) | None
        self._active = set()  # the keys whose info is not None

    def _clear_cache(self):
        for table in (
            self._seen,
            self._hot,
            self._title_seen,
            self._title_hot,
            self._title_key_of,
            self._info,
            self._active,
        ):
            table.clear()

    @classmethod
    def build(cls, queries):
        matcher = cls()
        for topic_id, query in queries.items():
            matcher.add(topic_id, query)
        return matcher

    def __len__(self):
        return len(self._queries)

    def __contains__(self, topic_id):
        return topic_id in self._queries

    # -- registration ----------------------------------------------------------------

    def add(self, topic_id, query):
        if isinstance(query, str):
            from .parser import parse

            query = parse(query)
        root = getattr(query, "root", query)
        if topic_id in self._queries:
            self.remove(topic_id)
        self._queries[topic_id] = root
        self._clear_cache()
        for leaf in _leaves(root):
            if isinstance(leaf, Wildcard):
                self._wildcard_id(leaf)
            for key in _leaf_keys(leaf):
                self._watched[key] = self._watched.get(key, 0) + 1
        anchors = self._anchors_of(root)
        if anchors is None:
            self._always = self._always | {topic_id}
            anchors = []
        anchors = list(dict.fromkeys(anchors))  # "a OR a" anchors once
        self._anchors[topic_id] = anchors
        for kind, value in anchors:
            if kind == "key":
                self._by_key.setdefault(value, set()).add(topic_id)
            else:
                self._wild_info[value][2].add(topic_id)
        self._checks[topic_id] = None if _is_exact(root) else self._compile(root)
        # The anchors that prove the match alone: those of the query or of its top-level
        # OR branches that are words and values ("Maison Lumiere" OR #maisonlumiere).
        self._sufficient[topic_id] = frozenset(
            anchor
            for branch in (root.children if isinstance(root, Or) else (root,))
            if _is_exact(branch)
            for anchor in self._anchors_of(branch)
        )

    def remove(self, topic_id):
        root = self._queries.pop(topic_id, None)
        if root is None:
            return
        self._clear_cache()
        self._always = self._always - {topic_id}
        for kind, value in self._anchors.pop(topic_id):
            if kind == "key":
                topics = self._by_key[value]
                topics.discard(topic_id)
                if not topics:
                    del self._by_key[value]
            else:
                self._wild_info[value][2].discard(topic_id)
        self._checks.pop(topic_id)
        self._sufficient.pop(topic_id)
        for leaf in _leaves(root):
            if isinstance(leaf, Wildcard):
                self._release_wildcard(leaf)
            for key in _leaf_keys(leaf):
                uses = self._watched[key] - 1
                if uses:
                    self._watched[key] = uses
                else:
                    del self._watched[key]

    def _wildcard_id(self, node):
        """The id of a wildcard, shared by every topic that uses it (counted per use)."""
        prefix = _FIELD_PREFIX[node.field]
        key = (prefix, node.pattern)
        wid = self._wildcards.get(key)
        if wid is None:
            wid = self._wildcards[key] = self._next_wid
            self._next_wid += 1
            self._wild_info[wid] = [prefix, node.regex(), set(), 0]
            self._wild_by_start.setdefault(prefix + node.pattern[:2], []).append(wid)
        self._wild_info[wid][3] += 1
        return wid

    def _release_wildcard(self, node):
        prefix = _FIELD_PREFIX[node.field]
        wid = self._wildcards[(prefix, node.pattern)]
        info = self._wild_info[wid]
        info[3] -= 1
        if info[3] == 0:
            del self._wildcards[(prefix, node.pattern)]
            del self._wild_info[wid]
            start = self._wild_by_start[prefix + node.pattern[:2]]
            start.remove(wid)
            if not start:
                del self._wild_by_start[prefix + node.pattern[:2]]

    def _anchors_of(self, node):
        """Anchors of `node` as a list, or None when any document may match it."""
        if isinstance(node, Term):
            return [("key", _FIELD_PREFIX[node.field] + node.word)]
        if isinstance(node, Value):
            return [("key", _VALUE_PREFIX[node.field] + node.value)]
        if isinstance(node, Phrase):
            prefix = _FIELD_PREFIX[node.field]
            return [("key", min((prefix + word for word in node.words), key=_key_cost))]
        if isinstance(node, Wildcard):
            return [("wild", self._wildcard_id_peek(node))]
        if isinstance(node, Or):
            anchors = []
            for child in node.children:
                child_anchors = self._anchors_of(child)
                if child_anchors is None:
                    return None
                anchors.extend(child_anchors)
            return anchors
        if isinstance(node, And):
            options = [self._anchors_of(child) for child in node.children]
            options = [option for option in options if option is not None]
            return min(options, key=self._cost) if options else None
        if isinstance(node, Near):
            return min((self._anchors_of(node.left), self._anchors_of(node.right)), key=self._cost)
        return None  # Not

    def _wildcard_id_peek(self, node):
        prefix = _FIELD_PREFIX[node.field]
        return self._wildcards[(prefix, node.pattern)]

    def _cost(self, anchors):
        cost = 0.0
        for kind, value in anchors:
            if kind == "key":
                cost += _key_cost(value)
            else:
                cost += 20.0 / len(self._wild_info[value][1].pattern)
        return cost

    # -- compilation -----------------------------------------------------------------

    def _compile(self, root):
        """Python source for the exact check, compiled once: `lambda K, W, C: ...` where K
        is the document's key set, W its wildcard ids and C the lazy position context."""
        namespace = {"phrase": _phrase, "near": _near}
        source = "lambda K, W, C: " + self._expr(root, namespace)
        return eval(compile(source, "<topic query>", "eval"), namespace)  # noqa: S307 - our own code

    def _expr(self, node, namespace):
        if isinstance(node, Term):
            return repr(_FIELD_PREFIX[node.field] + node.word) + " in K"
        if isinstance(node, Value):
            return repr(_VALUE_PREFIX[node.field] + node.value) + " in K"
        if isinstance(node, Wildcard):
            return f"{self._wildcard_id_peek(node)} in W"
        if isinstance(node, Phrase):
            prefix = _FIELD_PREFIX[node.field]
            present = " and ".join(repr(prefix + word) + " in K" for word in node.words)
            return f"({present} and phrase(C, {node.field!r}, {list(node.words)!r}))"
        if isinstance(node, Not):
            return f"not ({self._expr(node.child, namespace)})"
        if isinstance(node, And | Or):
            children = sorted(node.children, key=_check_cost)
            joiner = " and " if isinstance(node, And) else " or "
            return "(" + joiner.join(f"({self._expr(c, namespace)})" for c in children) + ")"
        if isinstance(node, Near):
            name = f"near{len(namespace)}"
            namespace[name] = self._near_spans(node)
            field = _near_field(node)
            left = self._presence(node.left)
            right = self._presence(node.right)
            return f"(({left}) and ({right}) and near(C, {field!r}, {name}))"
        raise TypeError(f"not a query node: {node!r}")

    def _presence(self, node):
        """A cheap condition that holds whenever `node` occurs (to skip position work)."""
        if isinstance(node, Near):
            return f"({self._presence(node.left)}) and ({self._presence(node.right)})"
        if isinstance(node, Or):
            return " or ".join(f"({self._presence(child)})" for child in node.children)
        if isinstance(node, Wildcard):
            return f"{self._wildcard_id_peek(node)} in W"
        if isinstance(node, Phrase):
            prefix = _FIELD_PREFIX[node.field]
            return " and ".join(repr(prefix + word) + " in K" for word in node.words)
        return repr(_FIELD_PREFIX[node.field] + node.word) + " in K"

    def _near_spans(self, node):
        """A function from a word stream to the spans of a NEAR operand."""
        if isinstance(node, Term):
            word = node.word
            return lambda stream: _term_spans(stream, word)
        if isinstance(node, Phrase):
            words = list(node.words)
            return lambda stream: _phrase_spans(stream, words)
        if isinstance(node, Wildcard):
            match = node.regex().match
            return lambda stream: [(i, i) for i, token in enumerate(stream) if match(token)]
        if isinstance(node, Or):
            parts = [self._near_spans(child) for child in node.children]
            return lambda stream: [span for part in parts for span in part(stream)]
        left, right = self._near_spans(node.left), self._near_spans(node.right)
        distance, ordered = node.distance, node.ordered

        def near(stream):
            found = []
            right_spans = right(stream)
            for a in left(stream):
                for b in right_spans:
                    if _close_enough(a, b, distance, ordered):
                        found.append((min(a[0], b[0]), max(a[1], b[1])))
            return found

        return near

    # -- matching --------------------------------------------------------------------

    def match(self, document):
        """Sorted ids of the topics that `document` matches."""
        probes, title_words, text_scan, title_scan = _probes(document.text, document.title, _scan)
        # Author, source, site, language and network repeat across documents: their
        # keys are computed once per distinct value (source, site, language and network
        # together: few distinct combinations).
        if document.author:
            probes += _author_keys(document.author)
        url = document.url
        probes += _field_keys(document.source, url and _host(url), document.lang, document.network)

        # Most probes concern no topic: C-level set operations find the few that do.
        if not self._seen.issuperset(probes):
            self._learn(probes, self._seen, self._hot, None)
        keys = self._hot.intersection(probes)
        if title_words:
            if not self._title_seen.issuperset(title_words):
                self._learn(title_words, self._title_seen, self._title_hot, self._title_key_of)
            hits = self._title_hot.intersection(title_words)
            if hits:
                if not _ELISION_SET.isdisjoint(hits):
                    return self._match_exactly(document)
                keys.update(map(self._title_key_of.__getitem__, hits))
        if not keys:
            if not self._always:
                return []
        elif not _ELISION_SET.isdisjoint(keys):
            return self._match_exactly(document)
        return self._verify(document, keys, text_scan, title_scan)

    def _match_exactly(self, document):
        """`match` through `tokenize` alone. The fast path leaves elisions among the words
        (filtering them costs more than it saves), which only matters when a topic tests
        an elision ("l", "qu"...): parsed queries never do, but a tree built by hand may."""
        probes, title_words, text_scan, title_scan = _probes(
            document.text, document.title, _exact_scan
        )
        if document.author:
            probes += _author_keys(document.author)
        url = document.url
        probes += _field_keys(document.source, url and _host(url), document.lang, document.network)
        self._learn(probes, self._seen, self._hot, None)
        keys = self._hot.intersection(probes)
        if title_words:
            self._learn(title_words, self._title_seen, self._title_hot, self._title_key_of)
            keys.update(
                map(self._title_key_of.__getitem__, self._title_hot.intersection(title_words))
            )
        return self._verify(document, keys, text_scan, title_scan)

    def _verify(self, document, keys, text_scan, title_scan):
        """The candidates of the document's hot keys, checked when the anchor is not enough."""
        found = set()
        to_check = set(self._always)
        wildcards = set()
        info = self._info
        for key in self._active.intersection(keys):
            exact, checked, wids = info[key]
            if exact:
                found.update(exact)
            if checked:
                to_check.update(checked)
            if wids:
                wildcards.update(wids)
        if to_check:
            if found:
                to_check -= found
            checks = self._checks
            context = [document, text_scan, title_scan, None]  # see _stream_in
            for topic_id in to_check:
                if checks[topic_id](keys, wildcards, context):
                    found.add(topic_id)
        return sorted(found)

    def _learn(self, probes, seen, hot, key_of):
        """Classify the probes not seen before: hot when some topic tests their key. Plain
        probes are their own key; title words (with `key_of`) have the key "t:" + word."""
        if len(seen) > _CACHE_LIMIT:
            self._clear_cache()
        for probe in set(probes).difference(seen):
            seen.add(probe)
            key = probe if key_of is None else "t:" + probe
            if self._key_info(key) is not None or key in self._watched:
                hot.add(probe)
                if key_of is not None:
                    key_of[probe] = key

    def _key_info(self, key):
        """(exact topics, topics to check, wildcard ids) for `key`, None when it anchors
        nothing and matches no wildcard."""
        try:
            return self._info[key]
        except KeyError:
            pass
        # A topic is matched outright when its anchor on this key is sufficient.
        sufficient = self._sufficient
        exact, checked = set(), set()
        anchor = ("key", key)
        for topic in self._by_key.get(key, ()):
            (exact if anchor in sufficient[topic] else checked).add(topic)
        wids = []
        for start in (key[:2], key[:4]):
            for wid in self._wild_by_start.get(start, ()):
                prefix, regex, anchored, _uses = self._wild_info[wid]
                if key.startswith(prefix) and regex.match(key, len(prefix)):
                    wids.append(wid)
                    anchor = ("wild", wid)
                    for topic in anchored:
                        (exact if anchor in sufficient[topic] else checked).add(topic)
        if exact or checked or wids:
            entry = (tuple(exact), tuple(checked - exact), tuple(wids))
            self._active.add(key)
        else:
            entry = None
        self._info[key] = entry
        return entry


def _is_exact(node):
    """Whether an anchor hit alone proves the match (a word, a value, or an OR of them)."""
    if isinstance(node, Or):
        return all(_is_exact(child) for child in node.children)
    return isinstance(node, Term | Value | Wildcard)


def _check_cost(node):
    if isinstance(node, Term | Value | Wildcard):
        return 0
    if isinstance(node, Not):
        return 1 + _check_cost(node.child)
    if isinstance(node, Phrase):
        return 2
    if isinstance(node, And | Or):
        return 1 + max(_check_cost(child) for child in node.children)
    return 5  # Near


def _leaves(node):
    if isinstance(node, And | Or):
        for child in node.children:
            yield from _leaves(child)
    elif isinstance(node, Not):
        yield from _leaves(node.child)
    elif isinstance(node, Near):
        yield from _leaves(node.left)
        yield from _leaves(node.right)
    else:
        yield node


def _near_field(node):
    while not isinstance(node, Term | Phrase | Wildcard):
        node = node.left if isinstance(node, Near) else node.children[0]
    return node.field


def _term_spans(stream, word):
    spans = []
    index = -1
    try:
        while True:
            index = stream.index(word, index + 1)
            spans.append((index, index))
    except ValueError:
        return spans


def _phrase_spans(stream, words):
    first, rest, size = words[0], words[1:], len(words)
    spans = []
    index = -1
    try:
        while True:
            index = stream.index(first, index + 1)
            if stream[index + 1 : index + size] == rest:
                spans.append((index, index + size - 1))
    except ValueError:
        return spans


def _has_phrase(stream, words):
    first, rest, size = words[0], words[1:], len(words)
    index = -1
    try:
        while True:
            index = stream.index(first, index + 1)
            if stream[index + 1 : index + size] == rest:
                return True
    except ValueError:
        return False


def _close_enough(left, right, distance, ordered):
    if left[1] < right[0]:
        return right[0] - left[1] - 1 <= distance
    if ordered:
        return False
    if right[1] < left[0]:
        return left[0] - right[1] - 1 <= distance
    return True


# The position context of a document, C in the compiled checks: [document, text scan,
# title scan, word streams by field or None]. A plain list, as most documents need none
# of it: the word streams are built on demand (only phrases and NEAR need them) from the
# scans of its title and text that found its keys.


def _stream_in(context, field):
    streams = context[3]
    if streams is None:
        streams = context[3] = {}
    stream = streams.get(field)
    if stream is None:
        if field == "text":
            stream = [*_stream_in(context, "title"), *_GAP, *_stream_of(context[1])]
        elif field == "title":
            stream = _stream_of(context[2])
        else:
            value = getattr(context[0], field)
            stream = _stream(value) if value else []
        streams[field] = stream
    return stream


def _phrase(context, field, words):
    if field != "text" and field != "title":
        return _has_phrase(_stream_in(context, field), words)
    # First straight from the scans of the title and the text (no phrase spans the gap
    # between them): a phrase found among the scanned words is in the stream, as no word
    # of a phrase is an elision (a topic testing one goes through _match_exactly, whose
    # scans are clean). Otherwise it may still be there once elisions are dropped
    # ("Velorama l'Tisane"): the stream, built once for all the document's checks, says.
    if _has_phrase(context[2][0], words) or (field == "text" and _has_phrase(context[1][0], words)):
        return True
    return _has_phrase(_stream_in(context, field), words)


def _near(context, field, spans):
    return bool(spans(_stream_in(context, field)))


@functools.lru_cache(maxsize=100_000)
def _author_keys(author):
    keys = set()
    for token in tokenize(author):
        keys.add("a:" + (token[1:] if token[0] == "#" else token))
        if token[0] == "@":
            _add_handle(keys, token)
    return tuple(keys)


@functools.lru_cache(maxsize=10_000)
def _source_keys(source):
    return tuple({"s:" + (w[1:] if w[0] == "#" else w) for w in tokenize(source)})


_HOST_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#@:\[\]]+)(?:[/?#:]|\Z)")


def _host(url):
    """The host part of common urls without urlsplit's cost; odd ones go the long way."""
    found = _HOST_RE.match(url)
    return found.group(1) if found else url


@functools.lru_cache(maxsize=100_000)
def _site_keys(host_or_url):
    return tuple("site:" + host for host in host_suffixes(host_or_url))


@functools.lru_cache(maxsize=100_000)
def _field_keys(source, host_or_url, lang, network):
    """The keys of a document's source, site, language and network."""
    keys = ()
    if source:
        keys += _source_keys(source)
    if host_or_url:
        keys += _site_keys(host_or_url)
    if lang:
        keys += _lang_keys(lang)
    if network:
        keys += _network_keys(network)
    return keys


@functools.lru_cache(maxsize=1_000)
def _lang_keys(lang):
    return tuple("lang:" + value for value in languages(lang))


@functools.lru_cache(maxsize=1_000)
def _network_keys(network):
    network = fold(network.strip())
    return ("network:" + network,) if network else ()


def _add_handle(keys, token):
    handle = token[1:]
    keys.add("h:" + handle)
    if "@" in handle:
        keys.add("h:" + handle.partition("@")[0])


def _leaf_keys(leaf):
    """The keys a compiled check may test for `leaf` (all of them must reach it)."""
    if isinstance(leaf, Term):
        return (_FIELD_PREFIX[leaf.field] + leaf.word,)
    if isinstance(leaf, Value):
        return (_VALUE_PREFIX[leaf.field] + leaf.value,)
    if isinstance(leaf, Phrase):
        prefix = _FIELD_PREFIX[leaf.field]
        return tuple(dict.fromkeys(prefix + word for word in leaf.words))
    return ()  # Wildcard: tested by its id; Not, And, Or, Near have leaves below


# -- document probes ---------------------------------------------------------------------
#
# `tokenize` (fold, then one regex) costs more than everything else the matcher does for a
# document. For Latin-1 text `fold` works character by character (no Latin-1 character is
# a combining mark, and NFKD of each is a base letter followed by combining marks that
# fold removes), so one `bytes.translate` folds a whole text and marks where words end,
# and `split` cuts it: the same tokens as `tokenize` (elisions aside, see
# Matcher._match_exactly), several times faster. The characters of French and English
# typography beyond Latin-1 (’ “ ” … – — €, thin spaces, Latin Extended letters such as
# œ, č, ł) take the same path: the encoder's error handler replaces each by its fold, or
# by a space when its fold is only separators, which `tokenize` treats the same way.
# Characters whose fold is not one Latin-1 character (ß, æ, ¼...) and any other text take
# the exact path. The tokens of the scan, in order, are also the word streams of phrases
# and NEAR (see _stream_in): a document is read once.

_WORD_CHAR = re.compile(r"\w")


def _fold_table():
    table = bytearray(256)
    for code in range(256):
        folded = fold(chr(code))
        if len(folded) != 1 or (_WORD_CHAR.match(folded) and not folded.isascii()):
            table[code] = 0  # not a one-to-one fold: take the exact path
        elif _WORD_CHAR.match(folded) or folded in "#@.-":
            table[code] = ord(folded)  # "." and "-" matter inside handles and hashtags
        else:
            table[code] = 32  # a word separator
    return bytes(table)


_FOLD_TABLE = _fold_table()
_SEPARATE_TABLE = bytes.maketrans(b"#@.-", b"    ")
# Both at once, for text without hashtags and handles.
_FOLD_SPLIT_TABLE = _FOLD_TABLE.translate(_SEPARATE_TABLE)
# The hashtags and handles of `tokenize` (its second alternative), on folded bytes.
_MARK_SPLIT = re.compile(rb"([#@]\w+(?:[.\-@]\w+)*)")
_MARK_FIND = re.compile(rb"[#@]\w+(?:[.\-@]\w+)*")
_ELISION_SET = frozenset(ELISIONS)
_GAP = (GAP_TOKEN,) * gap_size()

# Blocks whose characters may take the fast path: Latin Extended-A and -B, Latin Extended
# Additional, General Punctuation, currency symbols, letterlike symbols.
_WIDE_BLOCKS = ((0x0100, 0x024F), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x214F))


def _wide_replacement(char):
    """What the fast path reads for a character beyond Latin-1, None when it cannot.

    `tokenize` only distinguishes word characters, "#", "@", "." and "-" (and "'" for
    nothing more than a separator): a character whose fold is made of those and other
    Latin-1 characters is replaced by its fold; one whose fold holds only other
    characters (quotes, dashes, spaces, "…" whose "..." never continues a handle) is a
    separator, a space."""
    folded = fold(char)
    if unicodedata.combining(char) or any(unicodedata.combining(c) for c in folded):
        return None  # NFKD may reorder it with its neighbours: not character by character
    try:
        encoded = folded.encode("latin-1")
    except UnicodeEncodeError:
        pass
    else:
        # The fast path folds the replacement again: each of its characters must stay
        # itself or be a separator ("Ǿ" folds to "ø", which would become "o").
        if all(_FOLD_TABLE[code] in (code, 32) for code in encoded):
            return folded
    if not any(_WORD_CHAR.match(c) or c in "#@.-" for c in folded):
        return " "
    return None


def _wide_table():
    table = {}
    for first, last in _WIDE_BLOCKS:
        for code in range(first, last + 1):
            replacement = _wide_replacement(chr(code))
            if replacement is not None:
                table[chr(code)] = replacement
    return table


_WIDE = _wide_table()


def _encode_wide(error):
    """Encoding error handler: the replacements of a run of characters beyond Latin-1, or
    the error itself (the caller then takes the exact path)."""
    try:
        return "".join(map(_WIDE.__getitem__, error.object[error.start : error.end])), error.end
    except KeyError:
        raise error from None


codecs.register_error("tribu.listening.fold", _encode_wide)


def _probes(text, title, scan):
    """(probes, title words, text scan, title scan) of a document.

    Probes: the words of the title and the text, hashtags ("#tag") and handles ("@name"),
    and the handle keys ("h:name"). Title words: the title's word stream (a hashtag as
    its word, a handle as "@name"). Scans: see `_scan`, kept for the word streams of
    phrases and NEAR."""
    text_scan = scan(text) if text else _EMPTY_SCAN
    tokens, marks, _clean = text_scan
    if title:
        title_scan = scan(title)
        title_words, title_marks, _clean = title_scan
        probes = [*tokens, *title_words]
        if title_marks:
            marks = [*marks, *title_marks]
    else:
        title_scan = _EMPTY_SCAN
        probes = list(tokens)
        title_words = ()
    if marks:
        for token in marks:
            if token[0] == "#":
                probes.append(token)
            else:
                handle = token[1:]
                probes.append("h:" + handle)
                if "@" in handle:
                    probes.append("h:" + handle.partition("@")[0])
    return probes, title_words, text_scan, title_scan


_EMPTY_SCAN = ([], [], True)  # never modified


def _scan(text):
    """(words, marks, clean) of `text`. Words: `words(tokenize(text))` (a hashtag as its
    word, a handle as "@name"), except that they may include elisions unless `clean`.
    Marks: the hashtags ("#tag") and handles ("@name") of `tokenize`."""
    try:
        encoded = text.encode("latin-1")
    except UnicodeEncodeError:
        try:
            encoded = text.encode("latin-1", "tribu.listening.fold")
        except UnicodeEncodeError:
            return _exact_scan(text)
    if 35 in encoded or 64 in encoded:  # "#" or "@" (no other character folds to them)
        folded = encoded.translate(_FOLD_TABLE)
        if 0 in folded:
            return _exact_scan(text)
        if 64 not in folded:
            # Hashtags only: when none goes on with "." or "-", each is "#" and its word,
            # and the word stream is that of the text with "#" as a separator.
            marks = _MARK_FIND.findall(folded)
            if not any(46 in mark or 45 in mark for mark in marks):
                marks = [mark.decode("ascii") for mark in marks]
                if _ELISION_SET.isdisjoint([mark[1:] for mark in marks]):
                    return folded.translate(_SEPARATE_TABLE).decode("ascii").split(), marks, False
                return _exact_scan(text)  # "#l": a word that `_stream_of` keeps
        words = []
        marks = []
        for index, part in enumerate(_MARK_SPLIT.split(folded)):
            if index % 2:
                mark = part.decode("ascii")
                marks.append(mark)
                if part[0] == 35:  # "#"
                    word = mark[1:]
                    if word in _ELISION_SET:
                        return _exact_scan(text)  # "#l": a word that `_stream_of` keeps
                    words.append(word)
                else:
                    words.append(mark)
            else:
                words += part.translate(_SEPARATE_TABLE).decode("ascii").split()
        return words, marks, False
    folded = encoded.translate(_FOLD_SPLIT_TABLE)
    if 0 in folded:
        return _exact_scan(text)
    return folded.decode("ascii").split(), (), False


def _exact_scan(text):
    tokens = tokenize(text)
    if not _MARKS.search(text):
        return tokens, (), True
    return (
        [token[1:] if token[0] == "#" else token for token in tokens],
        [token for token in tokens if token[0] in "#@"],
        True,
    )


def _stream_of(scan):
    """The word stream (`words(tokenize(text))`) of a field's scan."""
    words, _marks, clean = scan
    if clean or _ELISION_SET.isdisjoint(words):
        return words
    return [word for word in words if word not in _ELISION_SET]


def _stream(text):
    """`words(tokenize(text))`, the word stream of a field, by the fast path when it can."""
    return _stream_of(_scan(text))
