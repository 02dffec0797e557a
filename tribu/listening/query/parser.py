"""Parse topic queries (a Brandwatch-like boolean language) into the tree of ast.py.

Grammar, loosest binding first (NOT > NEAR > AND > OR):

    query     := or_expr END
    or_expr   := and_expr ("OR" and_expr)*
    and_expr  := near_expr (["AND"] near_expr)*     adjacent operands mean AND
    near_expr := unary (("NEAR/n" | "ONEAR/n") unary)*
    unary     := ("NOT" | "-") unary | primary
    primary   := "(" or_expr ")" | "phrase" | word | word* | te?m
               | field:value | field:"phrase" | field:( ... ) | #hashtag | @handle

Operators are written in capitals. Lower-case "and", "or", "not" are refused with a hint
(write AND, or quote the word) rather than guessed: "or" is also a French word.
"""

import difflib
import re
from dataclasses import dataclass

from .ast import TEXT_FIELDS, And, Near, Not, Or, Phrase, Term, Value, Wildcard, is_positive
from .ast import leaves as ast_leaves
from .errors import QueryError, _translate, gettext_noop
from .text import fold, normalize_site, tokenize, words

MAX_LENGTH = 4000  # characters
MAX_DEPTH = 20  # nested groups and NOTs
MAX_TERMS = 300  # words, phrases, wildcards and field values
MAX_NEAR_DISTANCE = 50  # also the gap the matcher keeps between title and text
MAX_PHRASE_WORDS = 20
MIN_STAR_PREFIX = 3  # "lum*", not "lu*": a short prefix matches half the dictionary
MIN_QUESTION_PREFIX = 2  # "te?m"

FIELDS = ("title", "author", "source", "site", "lang", "network")
_VALUE_FIELDS = ("site", "lang", "network")
_OPERATORS = {"AND", "OR", "NOT"}
_QUOTES = {'"': '"', "“": "”", "«": "»", "„": "“"}
_WORD_STOP = set(" \t\r\n()") | set(_QUOTES)
_NEAR_RE = re.compile(r"(O?NEAR)(?:/(.*))?\Z", re.IGNORECASE)
_FIELD_RE = re.compile(r"([A-Za-z]+):(.*)\Z", re.DOTALL)
_WORD_RE = re.compile(r"\w+\Z")
_HANDLE_RE = re.compile(r"\w+(?:[.\-]\w+)*(?:@\w+(?:[.\-]\w+)*)?\Z")
_SITE_RE = re.compile(r"[\w-]+(?:\.[\w-]+)*\Z")
_LANG_RE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]+)*\Z")
_ELISION_PREFIX_RE = re.compile(r"(?:jusqu|lorsqu|puisqu|qu|[ldjmnstc])'")
_WILDCARD_RE = re.compile(r"\w[\w?]*\*?\Z")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ( ) AND OR NOT - NEAR PHRASE WORD FIELD END
    text: str  # as written
    pos: int
    value: object = None


@dataclass(frozen=True)
class Query:
    """A parsed query: `root` is the tree, `source` what the user wrote."""

    root: object
    source: str = ""

    def to_query(self):
        return self.root.to_query()

    def explain(self):
        lines = []
        _explain(self.root, 0, lines)
        return "\n".join(lines)


def parse(query: str) -> Query:
    """Parse `query`, raising QueryError with a position and a suggestion when invalid."""
    if len(query) > MAX_LENGTH:
        raise QueryError(
            "too_long",
            MAX_LENGTH,
            gettext_noop("This query is %(length)d characters long; the limit is %(limit)d."),
            {"length": len(query), "limit": MAX_LENGTH},
            suggestion=gettext_noop("Split it into several topics."),
        )
    if not query.strip():
        raise QueryError(
            "empty",
            0,
            gettext_noop("The query is empty."),
            expected=gettext_noop("a word, a phrase or a group"),
            suggestion=gettext_noop('Write what to look for, for example: "maison lumière".'),
        )
    parser = _Parser(query, _lex(query))
    root = parser.parse()
    count = sum(1 for _ in ast_leaves(root))
    if count > MAX_TERMS:
        raise QueryError(
            "too_many_terms",
            0,
            gettext_noop("This query has %(count)d terms; the limit is %(limit)d."),
            {"count": count, "limit": MAX_TERMS},
            suggestion=gettext_noop("Split it into several topics."),
        )
    if not is_positive(root):
        raise QueryError(
            "only_negative",
            parser.first_not,
            gettext_noop(
                "This query would match almost every mention: NOT only says what to leave out."
            ),
            expected=gettext_noop("a word, a phrase or a field to look for"),
            suggestion=gettext_noop("Combine NOT with what to look for, as in: lampe NOT promo."),
        )
    return Query(root, query)


def _error(code, pos, message, params=None, *, expected="", suggestion=""):
    params = dict(params or {})
    params.setdefault("column", pos + 1)
    return QueryError(code, pos, message, params, expected=expected, suggestion=suggestion)


def _lex(query):
    tokens = []
    index, length = 0, len(query)
    while index < length:
        char = query[index]
        if char.isspace():
            index += 1
        elif char in "()":
            tokens.append(Token(char, char, index))
            index += 1
        elif char in _QUOTES:
            closing = query.find(_QUOTES[char], index + 1)
            if closing < 0 and char != '"':
                closing = query.find('"', index + 1)
            if closing < 0:
                raise _error(
                    "unclosed_quote",
                    index,
                    gettext_noop("The quote at character %(column)d is never closed."),
                    {"end": length + 1},
                    expected=gettext_noop("a closing quote"),
                    suggestion=gettext_noop("Add a closing quote at character %(end)d."),
                )
            text = query[index + 1 : closing]
            tokens.append(Token("PHRASE", query[index : closing + 1], index, text))
            index = closing + 1
        elif char == "-" and index + 1 < length and query[index + 1] not in " \t\r\n)":
            tokens.append(Token("-", "-", index))
            index += 1
        else:
            end = index
            while end < length and query[end] not in _WORD_STOP:
                end += 1
            tokens.append(_classify(query[index:end], index))
            index = end
    tokens.append(Token("END", "", length))
    return tokens


def _classify(word, pos):
    if word in _OPERATORS:
        return Token(word, word, pos)
    if word.lower() in ("and", "or", "not"):
        raise _error(
            "lowercase_operator",
            pos,
            gettext_noop("“%(word)s” at character %(column)d is ambiguous."),
            {"word": word, "upper": word.upper()},
            expected=gettext_noop("an operator in capitals, or a quoted word"),
            suggestion=gettext_noop(
                "Did you mean %(upper)s? Operators are written in capitals; to search for "
                'the word itself, put it in quotes: "%(word)s".'
            ),
        )
    near = _NEAR_RE.match(word)
    if near and (near.group(2) is not None or near.group(1).isupper()):
        return _near_token(word, pos, near)
    field = _FIELD_RE.match(word)
    if field:
        name = field.group(1).lower()
        if name in FIELDS:
            return Token("FIELD", word, pos, (name, field.group(2)))
        close = difflib.get_close_matches(name, FIELDS, n=1, cutoff=0.6)
        if close:
            raise _error(
                "unknown_field",
                pos,
                gettext_noop("“%(field)s:” is not a field."),
                {"field": field.group(1), "close": close[0]},
                expected=gettext_noop("a field such as title:, author: or site:"),
                suggestion=gettext_noop("Did you mean %(close)s:?"),
            )
        raise _error(
            "unknown_field",
            pos,
            gettext_noop("“%(field)s:” is not a field."),
            {"field": field.group(1), "fields": ", ".join(f + ":" for f in FIELDS)},
            expected=gettext_noop("a field such as title:, author: or site:"),
            suggestion=gettext_noop(
                "The fields are %(fields)s, #hashtag and @handle. To search for the text "
                "itself, put it in quotes."
            ),
        )
    return Token("WORD", word, pos)


def _near_token(word, pos, near):
    operator = near.group(1).upper()
    distance = near.group(2)
    params = {"word": word, "operator": operator}
    if not near.group(1).isupper():
        raise _error(
            "lowercase_operator",
            pos,
            gettext_noop("“%(word)s” at character %(column)d is ambiguous."),
            {**params, "upper": word.upper()},
            expected=gettext_noop("an operator in capitals, or a quoted word"),
            suggestion=gettext_noop(
                "Did you mean %(upper)s? Operators are written in capitals; to search for "
                'the word itself, put it in quotes: "%(word)s".'
            ),
        )
    if not distance or not distance.isdigit():
        raise _error(
            "near_distance",
            pos,
            gettext_noop("%(operator)s needs a distance in words."),
            params,
            expected=gettext_noop("a number of words after the slash"),
            suggestion=gettext_noop("Write %(operator)s/5 for “at most 5 words apart”."),
        )
    if int(distance) > MAX_NEAR_DISTANCE:
        raise _error(
            "near_distance",
            pos,
            gettext_noop("%(operator)s/%(distance)s is too far: the limit is %(limit)d words."),
            {**params, "distance": distance, "limit": MAX_NEAR_DISTANCE},
            expected=gettext_noop("a distance of %(limit)d words or less"),
            suggestion=gettext_noop("Use a smaller distance, or AND to find both anywhere."),
        )
    return Token("NEAR", word, pos, (int(distance), operator == "ONEAR"))


_STARTS_OPERAND = {"(", "NOT", "-", "PHRASE", "WORD", "FIELD"}


class _Parser:
    def __init__(self, query, tokens):
        self.query = query
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.first_not = 0
        self.field = "text"  # the field of the enclosing field:( ... ) group
        self.open_groups = 0

    @property
    def token(self):
        return self.tokens[self.index]

    def advance(self):
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self):
        node = self.or_expr()
        if self.token.kind == ")":
            raise self.stray_parenthesis()
        if self.token.kind != "END":  # pragma: no cover - every other token starts an operand
            raise self.expected_operand()
        return node

    def stray_parenthesis(self):
        return _error(
            "unbalanced_parenthesis",
            self.token.pos,
            gettext_noop("The parenthesis at character %(column)d closes nothing."),
            expected=gettext_noop("an operator or the end of the query"),
            suggestion=gettext_noop("Remove it, or add an opening parenthesis before it."),
        )

    def or_expr(self):
        children = [self.and_expr()]
        while self.token.kind == "OR":
            self.advance()
            children.append(self.and_expr())
        return _combine(Or, children)

    def and_expr(self):
        children = [self.near_expr()]
        while True:
            if self.token.kind == "AND":
                self.advance()
            elif self.token.kind not in _STARTS_OPERAND:
                break
            children.append(self.near_expr())
        return _combine(And, children)

    def near_expr(self):
        node = self.unary()
        while self.token.kind == "NEAR":
            operator = self.advance()
            right = self.unary()
            distance, ordered = operator.value
            self.check_near_operand(node, operator)
            self.check_near_operand(right, operator)
            if _span_field(node) != _span_field(right):
                raise _error(
                    "near_fields",
                    operator.pos,
                    gettext_noop("Both sides of %(operator)s must search the same field."),
                    {"operator": operator.text},
                    expected=gettext_noop("words of the same field on both sides"),
                    suggestion=gettext_noop(
                        "Put the field around the whole expression, as in: "
                        "title:(lampe NEAR/3 design)."
                    ),
                )
            node = Near(node, right, distance, ordered)
        return node

    def check_near_operand(self, node, operator):
        if _span_field(node) is None:
            raise _error(
                "near_operand",
                operator.pos,
                gettext_noop(
                    "%(operator)s works between words, phrases, wildcards and groups of "
                    "alternatives joined by OR."
                ),
                {"operator": operator.text},
                expected=gettext_noop("a word, a phrase or an OR group on each side"),
                suggestion=gettext_noop(
                    "Move AND, NOT and fields such as site: outside the %(operator)s, as in: "
                    "(lampe NEAR/3 design) NOT promo."
                ),
            )

    def unary(self):
        if self.token.kind in ("NOT", "-"):
            token = self.advance()
            if not self.first_not:
                self.first_not = token.pos
            self.enter(token)
            child = self.unary()
            self.depth -= 1
            return Not(child)
        return self.primary()

    def enter(self, token):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(
                "too_deep",
                token.pos,
                gettext_noop("This query nests groups more than %(limit)d levels deep."),
                {"limit": MAX_DEPTH},
                suggestion=gettext_noop("Remove parentheses that are not needed."),
            )

    def primary(self):
        token = self.token
        kind = token.kind
        if kind == "(":
            self.advance()
            return self.group(token)
        if kind == "PHRASE":
            self.advance()
            return self.phrase(token, token.value, self.field)
        if kind == "WORD":
            self.advance()
            return self.word(token, token.text, self.field)
        if kind == "FIELD":
            self.advance()
            return self.field_expr(token)
        raise self.expected_operand()

    def group(self, opening):
        self.enter(opening)
        self.open_groups += 1
        node = self.or_expr()
        self.open_groups -= 1
        self.depth -= 1
        if self.token.kind != ")":
            if self.token.kind == "END":
                raise _error(
                    "unbalanced_parenthesis",
                    len(self.query),
                    gettext_noop("The parenthesis at character %(open)d is never closed."),
                    {"open": opening.pos + 1},
                    expected=gettext_noop("a closing parenthesis"),
                    suggestion=gettext_noop("Add a closing parenthesis at character %(column)d."),
                )
            raise self.expected_operand()  # pragma: no cover - defensive
        self.advance()
        return node

    def expected_operand(self):
        token = self.token
        if token.kind == ")" and not self.open_groups:
            return self.stray_parenthesis()
        if token.kind == "END":
            after = self.tokens[self.index - 1].text if self.index else ""
            return _error(
                "expected_term",
                token.pos,
                gettext_noop("The query ends too early, after “%(after)s”."),
                {"after": after},
                expected=gettext_noop("a word, a phrase or a group"),
                suggestion=gettext_noop("Add what to look for, or remove “%(after)s”."),
            )
        return _error(
            "expected_term",
            token.pos,
            gettext_noop(
                "Expected a word, a phrase or a group at character %(column)d, not “%(found)s”."
            ),
            {"found": token.text},
            expected=gettext_noop("a word, a phrase or a group"),
            suggestion=gettext_noop("Remove “%(found)s” or write a word before it."),
        )

    def field_expr(self, token):
        name, rest = token.value
        if self.field != "text":
            raise _error(
                "nested_field",
                token.pos,
                gettext_noop("“%(field)s:” cannot be used inside another field."),
                {"field": name},
                suggestion=gettext_noop("Write each field outside the other's parentheses."),
            )
        if rest:
            return self.word(token, rest, name, offset=len(name) + 1)
        following = self.token
        if following.kind == "PHRASE" and following.pos == token.pos + len(token.text):
            self.advance()
            return self.phrase(following, following.value, name)
        if following.kind == "(" and following.pos == token.pos + len(token.text):
            self.advance()
            self.field = name
            try:
                return self.group(following)
            finally:
                self.field = "text"
        raise _error(
            "missing_value",
            token.pos + len(token.text),
            gettext_noop("“%(field)s:” is followed by nothing."),
            {"field": name},
            expected=gettext_noop("a word, a phrase or a group right after the colon"),
            suggestion=gettext_noop(
                'Write %(field)s:word or %(field)s:"a phrase", without a space.'
            ),
        )

    def phrase(self, token, text, field):
        if field in _VALUE_FIELDS:
            return self.value(token, field, text)
        found = words(tokenize(text))
        if not found:
            raise _error(
                "empty_phrase",
                token.pos,
                gettext_noop("The phrase at character %(column)d contains no word to search."),
                expected=gettext_noop("words between the quotes"),
                suggestion=gettext_noop("Write words between the quotes, or remove them."),
            )
        if len(found) > MAX_PHRASE_WORDS:
            raise _error(
                "long_phrase",
                token.pos,
                gettext_noop("This phrase has %(count)d words; the limit is %(limit)d."),
                {"count": len(found), "limit": MAX_PHRASE_WORDS},
                suggestion=gettext_noop("Keep the most telling part of the phrase."),
            )
        if len(found) == 1:
            return Term(field, found[0])
        return Phrase(field, tuple(found))

    def word(self, token, raw, field, offset=0):
        pos = token.pos + offset
        if field in _VALUE_FIELDS:
            return self.value(token, field, raw)
        if raw.startswith("#") and field == "text":
            return self.value(token, "hashtag", raw[1:])
        if raw.startswith("@") and field == "text":
            return self.value(token, "handle", raw[1:])
        if "*" in raw or "?" in raw:
            return self.wildcard(pos, raw, field)
        tokens = tokenize(raw)
        if field == "text" and len(tokens) == 1 and tokens[0][0] in "#@":
            # Stray punctuation around a hashtag or handle ("(#velo)") leaves just that.
            kind = "hashtag" if tokens[0][0] == "#" else "handle"
            return self.value(token, kind, tokens[0][1:])
        found = words(tokens)
        if not found:
            raise _error(
                "empty_word",
                pos,
                gettext_noop("“%(word)s” contains nothing to search."),
                {"word": raw},
                expected=gettext_noop("a word with letters or digits"),
                suggestion=gettext_noop(
                    "Punctuation and elisions such as l' or d' are ignored: write a word."
                ),
            )
        if len(found) == 1:
            return Term(field, found[0])
        return Phrase(field, tuple(found[:MAX_PHRASE_WORDS]))

    def wildcard(self, pos, raw, field):
        pattern = _ELISION_PREFIX_RE.sub("", fold(raw).replace("’", "'"), count=1)
        if not _WILDCARD_RE.match(pattern):
            raise _error(
                "wildcard_form",
                pos,
                gettext_noop("“%(word)s” is not a wildcard we understand."),
                {"word": raw},
                expected=gettext_noop("one word with ? inside or * at its end"),
                suggestion=gettext_noop(
                    "Use * only at the end of a single word (lumi*) and ? for one letter (lumi?re)."
                ),
            )
        prefix = re.split(r"[?*]", pattern, maxsplit=1)[0]
        minimum = MIN_STAR_PREFIX if pattern.endswith("*") else MIN_QUESTION_PREFIX
        if len(prefix) < minimum:
            raise _error(
                "wildcard_prefix",
                pos,
                gettext_noop("“%(word)s” starts too short: it would match too many words."),
                {"word": raw, "minimum": minimum},
                expected=gettext_noop("at least %(minimum)d letters before the wildcard"),
                suggestion=gettext_noop(
                    "Write at least %(minimum)d letters before the wildcard, as in lum*."
                ),
            )
        if "*" not in pattern and "?" not in pattern:  # pragma: no cover - checked by caller
            return Term(field, pattern)
        return Wildcard(field, pattern)

    def value(self, token, field, raw):
        value = fold(raw.strip())
        if field == "site":
            value = normalize_site(raw)
            valid = _SITE_RE.match(value)
            suggestion = gettext_noop("Write a domain, as in site:lemonde.fr.")
        elif field == "lang":
            valid = _LANG_RE.match(value)
            suggestion = gettext_noop("Write a language code, as in lang:fr or lang:en.")
        elif field == "hashtag":
            valid = _WORD_RE.match(value)
            suggestion = gettext_noop("Write a hashtag as #word, letters, digits and _ only.")
        elif field == "handle":
            value = value.lstrip("@")
            valid = _HANDLE_RE.match(value)
            suggestion = gettext_noop("Write a handle as @name or @name@instance.social.")
        else:  # network
            valid = _WORD_RE.match(value)
            suggestion = gettext_noop("Write a network name, as in network:mastodon.")
        if not valid:
            raise _error(
                "invalid_value",
                token.pos,
                gettext_noop("“%(value)s” is not a valid value here."),
                {"value": raw},
                suggestion=suggestion,
            )
        return Value(field, value)


def _combine(kind, children):
    if len(children) == 1:
        return children[0]
    flat = []
    for child in children:
        flat.extend(child.children if isinstance(child, kind) else [child])
    return kind(tuple(flat))


def _span_field(node):
    """The field a NEAR operand searches, or None when it cannot be a NEAR operand."""
    if isinstance(node, Term | Phrase | Wildcard):
        return node.field
    if isinstance(node, Near):
        return _span_field(node.left)
    if isinstance(node, Or):
        fields = {_span_field(child) for child in node.children}
        return fields.pop() if len(fields) == 1 and None not in fields else None
    return None


_FIELD_NAMES = {
    "text": gettext_noop("the title or text"),
    "title": gettext_noop("the title"),
    "author": gettext_noop("the author"),
    "source": gettext_noop("the source name"),
}


def _explain(node, level, lines):
    indent = "  " * level

    def add(template, **params):
        lines.append(indent + _translate(template, params))

    if isinstance(node, And | Or):
        add(
            gettext_noop("all of these:")
            if isinstance(node, And)
            else gettext_noop("any of these:")
        )
        for child in node.children:
            _explain(child, level + 1, lines)
    elif isinstance(node, Not):
        add(gettext_noop("not this:"))
        _explain(node.child, level + 1, lines)
    elif isinstance(node, Near):
        if node.ordered:
            add(
                gettext_noop("at most %(distance)d words apart, in this order:"),
                distance=node.distance,
            )
        else:
            add(
                gettext_noop("at most %(distance)d words apart, in any order:"),
                distance=node.distance,
            )
        _explain(node.left, level + 1, lines)
        _explain(node.right, level + 1, lines)
    elif isinstance(node, Term | Phrase | Wildcard):
        field = _translate(_FIELD_NAMES[node.field], None)
        if isinstance(node, Term):
            add(gettext_noop("the word “%(word)s” in %(field)s"), word=node.word, field=field)
        elif isinstance(node, Phrase):
            add(
                gettext_noop("the phrase “%(phrase)s” in %(field)s"),
                phrase=" ".join(node.words),
                field=field,
            )
        else:
            add(
                gettext_noop("words like “%(pattern)s” in %(field)s"),
                pattern=node.pattern,
                field=field,
            )
    elif node.field == "site":
        add(gettext_noop("a page on %(site)s or its subdomains"), site=node.value)
    elif node.field == "lang":
        add(gettext_noop("language: %(lang)s"), lang=node.value)
    elif node.field == "network":
        add(gettext_noop("network: %(network)s"), network=node.value)
    elif node.field == "hashtag":
        add(gettext_noop("the hashtag #%(tag)s"), tag=node.value)
    else:
        add(gettext_noop("the handle @%(handle)s, in the text or as author"), handle=node.value)


__all__ = ["Query", "QueryError", "TEXT_FIELDS", "parse"]
