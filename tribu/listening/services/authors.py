"""Authors of mentions: found or created at ingestion, in one statement per batch.

An author is identified per network by handle (lower-cased, without "@"); web pages often
have only a name, so there the identity is the site and the name ("blog.example/jeanne
dupont"): two sites' "Admin" stay apart.
"""

from urllib.parse import urlsplit

from django.db import connection
from django.db.models import Q

from tribu.listening.models import Author

MAX_KEY = 255


def identity(mention):
    """(key, handle) of a mention's author, or None when it names nobody."""
    handle = (mention.author_handle or "").strip().lstrip("@").lower()
    if handle:
        return handle[:MAX_KEY], mention.author_handle.strip()[:255]
    name = (mention.author_name or "").strip().lower()
    if not name:
        return None
    try:
        host = (urlsplit(mention.url).hostname or "").lower()
    except ValueError:
        host = ""
    return f"{host}/{name}"[:MAX_KEY], ""


def attach_authors(workspace_id, mentions, now):
    """Set `author_id` on new (unsaved) mentions, creating or refreshing their authors."""
    found = {}
    for mention in mentions:
        ident = identity(mention)
        if ident is None:
            continue
        key, handle = ident
        slot = (mention.network, key)
        row = found.get(slot)
        if row is None:
            found[slot] = row = {
                "name": mention.author_name[:255],
                "handle": handle,
                "url": mention.author_url or "",
                "followers": mention.author_followers,
                "count": 0,
                "first": mention.published_at,
                "last": mention.published_at,
            }
        row["count"] += 1
        row["first"] = min(row["first"], mention.published_at)
        if mention.published_at >= row["last"]:
            row["last"] = mention.published_at
            row["name"] = mention.author_name[:255] or row["name"]
            row["url"] = mention.author_url or row["url"]
            if mention.author_followers is not None:
                row["followers"] = mention.author_followers
    if not found:
        return
    _upsert(workspace_id, found)
    ids = _ids(workspace_id, list(found))
    for mention in mentions:
        ident = identity(mention)
        if ident is not None:
            mention.author_id = ids.get((mention.network, ident[0]))


def _upsert(workspace_id, found):
    field = Author._meta.get_field("first_seen_at")
    prep = lambda value: field.get_db_prep_value(value, connection)  # noqa: E731
    rows = [
        [
            workspace_id,
            network,
            key,
            row["name"],
            row["handle"],
            row["url"],
            row["followers"],
            row["count"],
            prep(row["first"]),
            prep(row["last"]),
            False,
            "",
        ]
        for (network, key), row in found.items()
    ]
    t = Author._meta.db_table
    # Newer mentions refresh name, address and audience; counts add up; first/last seen
    # widen. CASE rather than GREATEST/MAX: the same SQL on SQLite and PostgreSQL.
    sql = (
        f'INSERT INTO "{t}" (workspace_id, network, "key", name, handle, url, followers, '  # noqa: S608
        "mentions_count, first_seen_at, last_seen_at, watched, note) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        'ON CONFLICT (workspace_id, network, "key") DO UPDATE SET '
        f'mentions_count = "{t}".mentions_count + excluded.mentions_count, '
        f"name = CASE WHEN excluded.last_seen_at >= \"{t}\".last_seen_at AND excluded.name <> '' "
        f'THEN excluded.name ELSE "{t}".name END, '
        f"handle = CASE WHEN excluded.handle <> '' THEN excluded.handle ELSE \"{t}\".handle END, "
        f"url = CASE WHEN excluded.last_seen_at >= \"{t}\".last_seen_at AND excluded.url <> '' "
        f'THEN excluded.url ELSE "{t}".url END, '
        f'followers = CASE WHEN excluded.last_seen_at >= "{t}".last_seen_at '
        f'AND excluded.followers IS NOT NULL THEN excluded.followers ELSE "{t}".followers END, '
        f'first_seen_at = CASE WHEN excluded.first_seen_at < "{t}".first_seen_at '
        f'THEN excluded.first_seen_at ELSE "{t}".first_seen_at END, '
        f'last_seen_at = CASE WHEN excluded.last_seen_at > "{t}".last_seen_at '
        f'THEN excluded.last_seen_at ELSE "{t}".last_seen_at END'
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _ids(workspace_id, slots):
    ids = {}
    for start in range(0, len(slots), 300):
        chunk = slots[start : start + 300]
        condition = Q()
        for network in {network for network, _key in chunk}:
            keys = [key for net, key in chunk if net == network]
            condition |= Q(network=network, key__in=keys)
        rows = Author.objects.filter(condition, workspace_id=workspace_id).values_list(
            "id", "network", "key"
        )
        for pk, network, key in rows:
            ids[(network, key)] = pk
    return ids
