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

import functools
import re

from .analysis import GAP_TOKEN, gap_size
from .ast import And, Near, Not, Or, Phrase, Term, Value, Wildcard
from .text import fold, host_suffixes, languages, tokenize

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
_EMPTY = ((), ())
# Characters that fold to "#" or "@": only then can a token be a hashtag or a handle.
_MARKS = re.compile("[#@\uff03\ufe5f\uff20\ufe6b]")
_CACHE_LIMIT = 2_000_000  # keys remembered between documents (a few hundred MB at most)


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
        self._wildcards = {}  # (key prefix, pattern) -> wildcard id
        self._wild_info = {}  # wildcard id -> [key prefix, compiled regex, topic ids, uses]
        self._wild_by_start = {}  # key prefix + 2 first letters -> [wildcard ids]
        self._next_wid = 0
        self._checks = {}  # topic id -> compiled check, or None when the anchor is the match
        self._always = set()  # topics without anchors (never for parsed queries)
        self._cache = {}  # document key -> (topic ids, wildcard ids) anchored on it
        self._hot = set()  # the keys of the cache whose entry is not empty

    def _clear_cache(self):
        self._cache.clear()
        self._hot.clear()

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
        anchors = self._anchors_of(root)
        if anchors is None:
            self._always.add(topic_id)
            anchors = []
        anchors = list(dict.fromkeys(anchors))  # "a OR a" anchors once
        self._anchors[topic_id] = anchors
        for kind, value in anchors:
            if kind == "key":
                self._by_key.setdefault(value, set()).add(topic_id)
            else:
                self._wild_info[value][2].add(topic_id)
        self._checks[topic_id] = None if _is_exact(root) else self._compile(root)

    def remove(self, topic_id):
        root = self._queries.pop(topic_id, None)
        if root is None:
            return
        self._clear_cache()
        self._always.discard(topic_id)
        for kind, value in self._anchors.pop(topic_id):
            if kind == "key":
                topics = self._by_key[value]
                topics.discard(topic_id)
                if not topics:
                    del self._by_key[value]
            else:
                self._wild_info[value][2].discard(topic_id)
        self._checks.pop(topic_id)
        for leaf in _leaves(root):
            if isinstance(leaf, Wildcard):
                self._release_wildcard(leaf)

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
        namespace = {}
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
            return f"({present} and C.phrase({node.field!r}, {list(node.words)!r}))"
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
            return f"(({left}) and ({right}) and C.near({field!r}, {name}))"
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
        context = _Context(document)
        keys = context.keys
        cache = self._cache
        missing = keys.difference(cache)
        if missing:
            if len(cache) > _CACHE_LIMIT:
                self._clear_cache()
                missing = keys
            for key in missing:
                cache[key] = self._entry(key)
            self._hot.update(key for key in missing if cache[key] is not _EMPTY)
        candidates = set(self._always)
        wildcards = set()
        # Only the keys that anchor something: a C-level intersection, then a short loop.
        for topics, wids in map(cache.__getitem__, keys & self._hot):
            candidates.update(topics)
            if wids:
                wildcards.update(wids)
        if not candidates:
            return []
        checks = self._checks
        found = []
        for topic_id in candidates:
            check = checks[topic_id]
            if check is None or check(keys, wildcards, context):
                found.append(topic_id)
        found.sort()
        return found

    def _entry(self, key):
        """The topics anchored on `key` and the wildcards that `key` matches."""
        topics = self._by_key.get(key)
        topics = set(topics) if topics else set()
        wids = []
        for start in (key[:2], key[:4]):
            for wid in self._wild_by_start.get(start, ()):
                prefix, regex, anchored, _uses = self._wild_info[wid]
                if key.startswith(prefix) and regex.match(key, len(prefix)):
                    wids.append(wid)
                    topics.update(anchored)
        if not topics and not wids:
            return _EMPTY
        return (tuple(topics), tuple(wids))


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


def _close_enough(left, right, distance, ordered):
    if left[1] < right[0]:
        return right[0] - left[1] - 1 <= distance
    if ordered:
        return False
    if right[1] < left[0]:
        return left[0] - right[1] - 1 <= distance
    return True


class _Context:
    """One document as the matcher sees it: its keys at once, word streams on demand."""

    __slots__ = ("document", "keys", "_tokens", "_streams")

    def __init__(self, document):
        self.document = document
        title = tokenize(document.title) if document.title else []
        text = tokenize(document.text) if document.text else []
        self._tokens = (title, text)
        self._streams = None
        keys = set(text)
        keys.update(title)
        if _MARKS.search(document.text) or _MARKS.search(document.title):
            for token in list(keys):
                if token[0] == "#":
                    keys.add(token[1:])
                elif token[0] == "@":
                    _add_handle(keys, token)
        if title:
            keys.update(["t:" + (w[1:] if w[0] == "#" else w) for w in title])
        # Author, source, site, language and network repeat across documents: their
        # keys are computed once per distinct value.
        if document.author:
            keys.update(_author_keys(document.author))
        if document.source:
            keys.update(_source_keys(document.source))
        if document.url:
            keys.update(_site_keys(_host(document.url)))
        if document.lang:
            keys.update(_lang_keys(document.lang))
        if document.network:
            keys.update(_network_keys(document.network))
        self.keys = keys

    def stream(self, field):
        streams = self._streams
        if streams is None:
            streams = self._streams = {}
        stream = streams.get(field)
        if stream is None:
            if field == "text":
                title, text = self._tokens
                stream = _words(title) + [GAP_TOKEN] * gap_size() + _words(text)
            elif field == "title":
                stream = _words(self._tokens[0])
            else:
                value = self.document.author if field == "author" else self.document.source
                stream = _words(tokenize(value)) if value else []
            streams[field] = stream
        return stream

    def phrase(self, field, words):
        return bool(_phrase_spans(self.stream(field), words))

    def near(self, field, spans):
        return bool(spans(self.stream(field)))


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


def _words(tokens):
    return [token[1:] if token[0] == "#" else token for token in tokens]
