"""Full-text search structures, one set per database vendor (see tribu/listening/search.py).

SQLite: a contentless FTS5 table whose rowid is Mention.sort_key. Columns: `ws` (a
"w<workspace id>" token, so a search never walks other workspaces' results), `title`,
`body` (unicode61 with diacritics removed: accent-insensitive words, phrases, prefixes) and
`stems` (Snowball stems of the folded words, French/English by the mention's language, both
when unknown), filled by search.py on insert.

PostgreSQL: text search configurations tribu_fr/tribu_en (french/english with unaccent), a
`search_vector` column on listening_mention kept up to date by a trigger from title, text and
lang, and a GIN index on it. The column is not a model field: only search.py reads it.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE listening_mention_fts USING fts5(
        ws, title, body, stems,
        content='',
        tokenize="unicode61 remove_diacritics 2"
    )""",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS listening_mention_fts"]

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'tribu_fr') THEN
            CREATE TEXT SEARCH CONFIGURATION tribu_fr (COPY = french);
            ALTER TEXT SEARCH CONFIGURATION tribu_fr
                ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'tribu_en') THEN
            CREATE TEXT SEARCH CONFIGURATION tribu_en (COPY = english);
            ALTER TEXT SEARCH CONFIGURATION tribu_en
                ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
        END IF;
    END $$""",
    "ALTER TABLE listening_mention ADD COLUMN search_vector tsvector",
    """CREATE FUNCTION listening_mention_search_vector() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector := CASE NEW.lang
            WHEN 'fr' THEN
                setweight(to_tsvector('tribu_fr', coalesce(NEW.title, '')), 'A')
                || to_tsvector('tribu_fr', coalesce(NEW.text, ''))
            WHEN 'en' THEN
                setweight(to_tsvector('tribu_en', coalesce(NEW.title, '')), 'A')
                || to_tsvector('tribu_en', coalesce(NEW.text, ''))
            ELSE
                setweight(to_tsvector('tribu_fr', coalesce(NEW.title, '')), 'A')
                || to_tsvector('tribu_fr', coalesce(NEW.text, ''))
                || setweight(to_tsvector('tribu_en', coalesce(NEW.title, '')), 'A')
                || to_tsvector('tribu_en', coalesce(NEW.text, ''))
        END;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER listening_mention_search_vector
        BEFORE INSERT OR UPDATE OF title, text, lang ON listening_mention
        FOR EACH ROW EXECUTE FUNCTION listening_mention_search_vector()""",
    "CREATE INDEX mention_search ON listening_mention USING gin (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS mention_search",
    "DROP TRIGGER IF EXISTS listening_mention_search_vector ON listening_mention",
    "DROP FUNCTION IF EXISTS listening_mention_search_vector()",
    "ALTER TABLE listening_mention DROP COLUMN IF EXISTS search_vector",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS tribu_fr",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS tribu_en",
]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("listening", "0001_initial")]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
