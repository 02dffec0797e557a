"""The query syntax tree: what a parsed topic query means, independent of how it is run.

Text leaves (Term, Phrase, Wildcard) search one *field*: "text" (the title and the body,
the default), "title", "author" or "source". Value leaves (Value) test one exact property
of the document: site, lang, network, hashtag, handle. Every node renders back to query
syntax (`to_query`) that parses to the same tree.
"""

import re
from dataclasses import dataclass

TEXT_FIELDS = ("text", "title", "author", "source")
VALUE_FIELDS = ("site", "lang", "network", "hashtag", "handle")


# Single letters that are elisions (l', d', j'...) are dropped from plain text, so such a
# word can only come from a hashtag: write it back as one so the query parses the same.
_ELIDED_LETTERS = frozenset("ldjmnstc")


def _spell(word):
    return "#" + word if word in _ELIDED_LETTERS else word


def _quote(words):
    return '"' + " ".join(_spell(word) for word in words) + '"'


@dataclass(frozen=True, slots=True)
class Term:
    field: str
    word: str  # one folded token

    def to_query(self):
        if self.word in ("and", "or", "not") or self.word[0] == "@":
            return _prefix(self.field) + _quote([self.word])  # not an operator or a handle
        if self.word in _ELIDED_LETTERS and self.field != "text":
            return _prefix(self.field) + "#" + self.word
        return _prefix(self.field) + self.word


@dataclass(frozen=True, slots=True)
class Phrase:
    field: str
    words: tuple[str, ...]  # two or more folded tokens, in order

    def to_query(self):
        return _prefix(self.field) + _quote(self.words)


@dataclass(frozen=True, slots=True)
class Wildcard:
    field: str
    pattern: str  # folded, "?" = exactly one character, a trailing "*" = any ending

    def to_query(self):
        return _prefix(self.field) + self.pattern

    @property
    def prefix(self):
        """The literal start, before the first wildcard character."""
        return re.split(r"[?*]", self.pattern, maxsplit=1)[0]

    def regex(self):
        body = "".join(
            r"\w" if char == "?" else r"\w*" if char == "*" else re.escape(char)
            for char in self.pattern
        )
        return re.compile(body + r"\Z")


@dataclass(frozen=True, slots=True)
class Value:
    field: str  # one of VALUE_FIELDS
    value: str  # folded; site without "www.", hashtag and handle without "#"/"@"

    def to_query(self):
        if self.field == "hashtag":
            return "#" + self.value
        if self.field == "handle":
            return "@" + self.value
        return f"{self.field}:{self.value}"


@dataclass(frozen=True, slots=True)
class Not:
    child: object

    def to_query(self):
        return "NOT " + _group(self.child)


@dataclass(frozen=True, slots=True)
class And:
    children: tuple

    def to_query(self):
        return " AND ".join(_group(child) for child in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple

    def to_query(self):
        return " OR ".join(_group(child) for child in self.children)


@dataclass(frozen=True, slots=True)
class Near:
    left: object
    right: object
    distance: int  # at most this many words between the two sides
    ordered: bool  # ONEAR: the left side comes first

    def to_query(self):
        operator = ("ONEAR/" if self.ordered else "NEAR/") + str(self.distance)
        return f"{_group(self.left)} {operator} {_group(self.right)}"


def _prefix(field):
    return "" if field == "text" else field + ":"


def _group(node):
    text = node.to_query()
    return f"({text})" if isinstance(node, And | Or | Near) else text


def leaves(node):
    """Every leaf of the tree, left to right."""
    if isinstance(node, And | Or):
        for child in node.children:
            yield from leaves(child)
    elif isinstance(node, Not):
        yield from leaves(node.child)
    elif isinstance(node, Near):
        yield from leaves(node.left)
        yield from leaves(node.right)
    else:
        yield node


def is_positive(node):
    """Whether a match needs something to be present in the document. A query that only
    says what must be absent ("NOT promo", "a OR NOT b") would match nearly everything."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(is_positive(child) for child in node.children)
    if isinstance(node, Or):
        return all(is_positive(child) for child in node.children)
    return True
