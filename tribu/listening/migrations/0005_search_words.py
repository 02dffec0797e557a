"""SQLite: the vocabulary of the search index, for fast prefix searches (see search.py).

`listening_search_word` holds every word (term) of the `title` and `body` columns of
`listening_mention_fts`, as FTS5 tokenized it. A prefix search `lumina*` reads the words
in the range ['lumina', 'luminb') here (microseconds) and searches for them as whole words,
instead of letting FTS5 expand the prefix by merging every matching doclist in full (tens
of milliseconds at a million mentions). Words are never removed: a word left by a deleted
mention only adds a branch that matches nothing.

This migration fills the table from the existing index (fts5vocab walks it once: seconds
for a million mentions); from then on search.index_mentions adds the words of each batch.
PostgreSQL keeps its own prefix matching (`'word':*` in tsquery): nothing to do there.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE TABLE listening_search_word (word TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE VIRTUAL TABLE temp.listening_mention_fts_backfill "
    "USING fts5vocab(main, listening_mention_fts, col)",
    "INSERT OR IGNORE INTO listening_search_word(word) "
    "SELECT DISTINCT term FROM temp.listening_mention_fts_backfill "
    "WHERE col IN ('title', 'body')",
    "DROP TABLE temp.listening_mention_fts_backfill",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS listening_search_word"]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("listening", "0004_drop_covered_indexes")]

    operations = [
        migrations.RunPython(run({"sqlite": SQLITE_FORWARD}), run({"sqlite": SQLITE_BACKWARD}))
    ]
