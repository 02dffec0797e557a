"""Full-text search over mentions: one small interface, two backends chosen by the database.

- SQLite: the contentless FTS5 table `listening_mention_fts` (migration 0002), rowid =
  Mention.sort_key. Its `title`/`body` columns use unicode61 with diacritics removed (words,
  "phrases", prefix*), its `stems` column holds Snowball stems of the folded words, French or
  English by the mention's language and both when it is unknown. Rows are written here, in
  bulk, by `index_mentions` (ingestion calls it in the same transaction).
- PostgreSQL: `search_vector` (tsvector, GIN index) maintained by a trigger with the
  tribu_fr / tribu_en configurations (unaccent + Snowball), by the row's language.

A search string is read as terms, all required: words, "exact phrases" and prefix* words.
User input never reaches FTS5 or tsquery syntax: every term is reduced to word characters
and quoted, so quotes, `*`, `NEAR(`, `-` or `:` in a search box cannot raise a database
error. `-word` is read as `word` (the stream has no exclusion; topics have NOT). The SQL
built below interpolates only constants (table names) and integers; every value that comes
from a user or a mention is a query parameter (hence the `noqa: S6xx` markers).

Prefix searches on SQLite: FTS5 expands `lumina*` by reading and merging the whole doclist
of every word starting with "lumina" before it returns a row (20-30 ms for common words at a
million mentions, seconds for one letter). `listening_search_word` (migration 0005) holds
the vocabulary of the title/body columns, as FTS5 tokenized it: a newest-first search turns
the prefix into an OR of those whole words, which FTS5 walks lazily from the newest row and
stops after one page (under a millisecond). Same rows by construction: the vocabulary holds
every indexed word (and words of deleted mentions, which match nothing). Past
PREFIX_EXPANSION_LIMIT words, or with non-ASCII words, it keeps the plain prefix query; so
does relevance order, whose bm25 scores would change with the number of words.

Because the SQLite table is contentless, deleting or re-languaging a mention must go
through `unindex_mentions` with the values as they were indexed; rows left behind by a
bulk delete only cost space (sort keys are never reused, see services/dedupe.py).
"""

import re
import unicodedata
from dataclasses import dataclass

import snowballstemmer
from django.db import connection
from django.db.models import BooleanField, FloatField
from django.db.models.expressions import RawSQL

FTS_TABLE = "listening_mention_fts"
WORD_TABLE = "listening_search_word"
# The tokenizer of FTS_TABLE (migration 0002): the vocabulary must hold its exact terms.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
# An OR of this many words costs ~1.5 ms when matches are dense; beyond it (short prefixes
# of a large vocabulary) the plain prefix query is no slower.
PREFIX_EXPANSION_LIMIT = 256
MAX_TERMS = 16  # a search box, not a query language: bound the work per query
# Relevance order ranks the newest this-many matches (see filter_mentions).
RELEVANCE_CANDIDATES = 2000

_WORD = re.compile(r"[^\W_]+")
_TERM = re.compile(r'"([^"]*)"?|(\S+)')


# Combining marks (unicodedata.combining != 0): those of the Latin accents block in one
# regex pass, any others through a translation table built on first use.
_LATIN_MARKS = re.compile(
    "[" + "".join(chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c))) + "]"
)
_OTHER_MARKS = None


def _strip_other_marks(value):
    global _OTHER_MARKS
    if _OTHER_MARKS is None:
        _OTHER_MARKS = {c: None for c in range(0x110000) if unicodedata.combining(chr(c))}
    return value.translate(_OTHER_MARKS)


def fold(value):
    """Casefold and strip accents: "École" -> "ecole" (same rule as the FTS5 tokenizer).

    Ingestion folds every title and text twice (stems, near-duplicate key), so this is
    hot: ASCII text (most English) takes a fast path, and French accents go in one regex
    pass rather than a Python loop over each character (3 times faster)."""
    if value.isascii():
        return value.lower()
    folded = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", value.casefold()))
    return folded if folded.isascii() else _strip_other_marks(folded)


def words(value):
    return _WORD.findall(fold(value))


class _Stemmers:
    """Snowball stemmers with a cache: the pure-Python stemmer costs ~45 µs a word, and
    word frequencies are Zipfian, so nearly every lookup is a dictionary hit."""

    LIMIT = 300_000

    def __init__(self):
        self.stemmers = {
            "fr": snowballstemmer.stemmer("french"),
            "en": snowballstemmer.stemmer("english"),
        }
        self.cache = {"fr": {}, "en": {}}

    def stem(self, lang, word):
        cache = self.cache[lang]
        stem = cache.get(word)
        if stem is None:
            if len(cache) > self.LIMIT:
                cache.clear()
            stem = cache[word] = fold(self.stemmers[lang].stemWord(word))
        return stem


STEMMERS = _Stemmers()


def stem_languages(lang):
    return (lang,) if lang in ("fr", "en") else ("fr", "en")


def stems_for(title, text, lang):
    """The `stems` column of one mention: its distinct stems, space-separated."""
    languages = stem_languages(lang)
    stem = STEMMERS.stem
    seen = set()
    for word in _WORD.findall(fold(f"{title} {text}")):
        for language in languages:
            seen.add(stem(language, word))
    return " ".join(seen)


@dataclass(frozen=True)
class Term:
    kind: str  # "word", "phrase" or "prefix"
    words: tuple


def parse(q):
    """The terms of a search string (see the module docstring)."""
    terms = []
    for phrase, bare in _TERM.findall(q or ""):
        if phrase:
            found = words(phrase)
            if len(found) == 1:
                terms.append(Term("word", tuple(found)))
            elif found:
                terms.append(Term("phrase", tuple(found)))
            continue
        found = words(bare)
        if not found:
            continue
        if bare.endswith("*") and len(found) == 1:
            terms.append(Term("prefix", tuple(found)))
        elif len(found) == 1:
            terms.append(Term("word", tuple(found)))
        else:  # "l'avion", "e-mail": the words in this order, like the index reads them
            terms.append(Term("phrase", tuple(found)))
    return terms[:MAX_TERMS]


# SQLite --------------------------------------------------------------------------------


def fts5_expression(workspace_id, terms, expansions=None):
    """The MATCH string; `expansions` maps a prefix to the whole words it stands for (see
    prefix_expansions): their OR replaces the prefix query."""
    expansions = expansions or {}
    parts = [f'ws:"w{int(workspace_id)}"']
    for term in terms:
        joined = " ".join(term.words)
        if term.kind == "phrase":
            parts.append(f'{{title body}}:"{joined}"')
        elif term.kind == "prefix" and joined in expansions:
            options = [f'{{title body}}:"{word}"' for word in expansions[joined]]
            parts.append("(" + " OR ".join(options) + ")")
        elif term.kind == "prefix":
            parts.append(f'{{title body}}:"{joined}"*')
        else:
            options = [f'{{title body}}:"{joined}"']
            options += [
                f'stems:"{stem}"'
                for stem in sorted({STEMMERS.stem(lang, joined) for lang in ("fr", "en")})
            ]
            parts.append("(" + " OR ".join(options) + ")")
    return " AND ".join(parts)


def _sqlite_rows(mentions):
    for mention in mentions:
        yield (
            mention.sort_key,
            f"w{mention.workspace_id}",
            mention.title,
            mention.text,
            stems_for(mention.title, mention.text, mention.lang),
        )


def prefix_expansions(terms):
    """{prefix: [indexed words starting with it]} for the prefix terms that can be searched
    as an OR of whole words with the same results as FTS5's own prefix query.

    Only ASCII prefixes and words: an ASCII letter-or-digit word, quoted, tokenizes to
    itself, and its byte range is [prefix, prefix with its last character incremented).
    A prefix with no word is left to FTS5 too (it finds nothing, at once)."""
    prefixes = {t.words[0] for t in terms if t.kind == "prefix" and t.words[0].isascii()}
    expansions = {}
    if not prefixes or vendor() != "sqlite":
        return expansions
    with connection.cursor() as cursor:
        for prefix in sorted(prefixes):
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            cursor.execute(
                f"SELECT word FROM {WORD_TABLE} WHERE word >= %s AND word < %s LIMIT %s",  # noqa: S608
                [prefix, upper, PREFIX_EXPANSION_LIMIT + 1],
            )
            found = [row[0] for row in cursor.fetchall()]
            if 0 < len(found) <= PREFIX_EXPANSION_LIMIT and all(
                word.isascii() and word.isalnum() for word in found
            ):
                expansions[prefix] = found
    return expansions


def _record_words(cursor, rows):
    """Add the title/body words of these FTS rows to WORD_TABLE.

    FTS5 tokenizes them itself, in a per-connection temporary FTS5 table with the same
    tokenizer, so the vocabulary holds exactly the index's terms (a Python tokenizer
    differs on ß, ligatures, fractions...). ~6 µs a mention; each distinct word of the
    batch then costs one primary-key probe, a write only when it is new."""
    cursor.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.listening_batch_words USING fts5("
        f"words, content='', detail=none, columnsize=0, tokenize=\"{FTS_TOKENIZE}\")"
    )
    cursor.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.listening_batch_words_vocab "
        "USING fts5vocab(temp, listening_batch_words, row)"
    )
    cursor.execute(
        "INSERT INTO temp.listening_batch_words(listening_batch_words) VALUES ('delete-all')"
    )
    # Small ascending rowids: nothing reads them, and FTS5 writes them fastest.
    cursor.executemany(
        "INSERT INTO temp.listening_batch_words(rowid, words) VALUES (%s, %s)",
        [(number, f"{row[2]} {row[3]}") for number, row in enumerate(rows)],
    )
    cursor.execute(
        f"INSERT OR IGNORE INTO {WORD_TABLE}(word) "  # noqa: S608
        "SELECT term FROM temp.listening_batch_words_vocab"
    )


def rebuild_words():
    """Fill WORD_TABLE from the whole index (what migration 0005 does): for databases whose
    index was written without index_mentions (bench/search.py)."""
    if vendor() != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.listening_mention_fts_backfill "
            f"USING fts5vocab(main, {FTS_TABLE}, col)"
        )
        cursor.execute(
            f"INSERT OR IGNORE INTO {WORD_TABLE}(word) SELECT DISTINCT term "  # noqa: S608
            "FROM temp.listening_mention_fts_backfill WHERE col IN ('title', 'body')"
        )
        cursor.execute("DROP TABLE temp.listening_mention_fts_backfill")


# PostgreSQL ----------------------------------------------------------------------------


def tsquery_sql(terms):
    """SQL and params of a tsquery: each term in French OR English, all terms required."""
    pieces, params = [], []
    for term in terms:
        joined = " ".join(term.words)
        if term.kind == "phrase":
            function, value = "phraseto_tsquery", joined
        elif term.kind == "prefix":
            # The word is letters and digits only (see `words`), quoted as a lexeme.
            function, value = "to_tsquery", f"'{joined}':*"
        else:
            function, value = "plainto_tsquery", joined
        pieces.append(
            f"({function}('tribu_fr'::regconfig, %s) || {function}('tribu_en'::regconfig, %s))"
        )
        params += [value, value]
    return "(" + " && ".join(pieces) + ")", params


# The interface -------------------------------------------------------------------------


def vendor():
    return connection.vendor


def index_mentions(mentions):
    """Add freshly inserted mentions to the SQLite index (PostgreSQL's trigger does it)."""
    if vendor() != "sqlite" or not mentions:
        return
    # Ascending rowids: FTS5 flushes its pending terms to a new segment whenever a rowid is
    # not above the previous one, and feeds list their items newest (highest key) first.
    rows = sorted(_sqlite_rows(mentions))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE}(rowid, ws, title, body, stems) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
            rows,
        )
        _record_words(cursor, rows)


def unindex_mentions(mentions):
    """Remove mentions from the SQLite index, with the values they were indexed with."""
    if vendor() != "sqlite" or not mentions:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, ws, title, body, stems) "  # noqa: S608
            "VALUES ('delete', %s, %s, %s, %s, %s)",
            list(_sqlite_rows(mentions)),
        )


def reindex_mentions(old, new):
    """After title, text or language changed: `old` as indexed, `new` as now stored."""
    unindex_mentions(old)
    index_mentions(new)


def indexed_sort_keys(keys):
    """Which of these sort keys the SQLite index already holds (also rows whose mention
    was bulk-deleted): dedupe never hands them out again."""
    if vendor() != "sqlite" or not keys:
        return set()
    found = set()
    keys = list(keys)
    with connection.cursor() as cursor:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE rowid IN ({marks})", chunk)  # noqa: S608
            found.update(row[0] for row in cursor.fetchall())
    return found


def indexed_sort_keys_between(low, high):
    if vendor() != "sqlite":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE rowid BETWEEN %s AND %s", [low, high])  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


def filter_mentions(queryset, workspace_id, q, *, relevance=False):
    """Mentions of `queryset` matching every term of `q`, ordered newest first (or by
    relevance, `search_rank` ascending); None when `q` has no terms.

    SQLite: the FTS5 table is joined and drives the query, walking its rowids (= sort keys)
    newest first, so a page stops after its last row instead of collecting every match;
    `fts_rowid` is the order column (see services/mentions.page for the cursor).
    """
    terms = parse(q)
    if not terms:
        return None
    if relevance:
        # Ranking every match of a common word costs seconds at a million mentions:
        # rank the newest RELEVANCE_CANDIDATES matches only. The newest-first query finds
        # the oldest of them (a bounded walk, like a page), and the ranked query keeps
        # sort keys from there on, which both backends use as an index range.
        newest = filter_mentions(queryset, workspace_id, q)
        floor = newest.values_list("sort_key", flat=True)[
            RELEVANCE_CANDIDATES - 1 : RELEVANCE_CANDIDATES
        ]
        floor = next(iter(floor), None)
        if floor is not None:
            queryset = queryset.filter(sort_key__gte=floor)
            if vendor() == "sqlite":
                queryset = queryset.extra(where=[f"{FTS_TABLE}.rowid >= %s"], params=[floor])  # noqa: S610
    if vendor() == "postgresql":
        sql, params = tsquery_sql(terms)
        queryset = queryset.alias(
            search_hit=RawSQL(  # noqa: S611
                f'"listening_mention"."search_vector" @@ {sql}', params, BooleanField()
            )
        ).filter(search_hit=True)
        if relevance:
            return queryset.annotate(
                search_rank=RawSQL(  # noqa: S611
                    f'-ts_rank("listening_mention"."search_vector", {sql})', params, FloatField()
                )
            ).order_by("search_rank", "-sort_key")
        return queryset.order_by("-sort_key")
    # Relevance keeps FTS5's prefix query: bm25 would score an OR of words differently.
    expression = fts5_expression(
        workspace_id, terms, None if relevance else prefix_expansions(terms)
    )
    select = {"fts_rowid": f"{FTS_TABLE}.rowid"}
    if relevance:
        # bm25 weights: title counts double, stems half (a stem match is a looser match).
        select["search_rank"] = f"bm25({FTS_TABLE}, 0.0, 2.0, 1.0, 0.5)"
    queryset = queryset.extra(  # noqa: S610
        select=select,
        tables=[FTS_TABLE],
        where=[f'{FTS_TABLE}.rowid = "listening_mention"."sort_key"', f"{FTS_TABLE} MATCH %s"],
        params=[expression],
    )
    if relevance:
        return queryset.order_by("search_rank", "-fts_rowid")
    return queryset.order_by("-fts_rowid")


def before(queryset, sort_key):
    """Keyset condition "older than sort_key" that the SQLite FTS5 join can seek on."""
    if "fts_rowid" in queryset.query.extra_select:
        return queryset.extra(where=[f"{FTS_TABLE}.rowid < %s"], params=[sort_key])  # noqa: S610
    return queryset.filter(sort_key__lt=sort_key)


def is_ranked(queryset):
    return "search_rank" in queryset.query.annotations or (
        "search_rank" in queryset.query.extra_select
    )
