"""Hacker News, through the Algolia search API (newest first).

config: {"base_url": "https://hn.algolia.com" (default), "query": "words",
         "tags": optional Algolia tag filter, default "(story,comment)" (stories OR comments),
         "max_pages": optional, "timeout": optional}
state:  {"since": newest created_at_i seen, "seen": objectIDs at that second}

Algolia caps a query at 1,000 hits, so we slide the `created_at_i` window instead of paging
deep; `>=` plus the ids remembered at that second loses nothing posted in the same second.
"""

from urllib.parse import quote

from django.utils.translation import gettext as _

from tribu.listening.connectors import base
from tribu.listening.fetch.http import FetchError
from tribu.listening.items import ParsedItem

NETWORK = "hackernews"
LABEL = "Hacker News"
DEFAULT_BASE_URL = "https://hn.algolia.com"
WEB = "https://news.ycombinator.com"
DEFAULT_TAGS = "(story,comment)"  # a comma inside parentheses means OR for Algolia
PAGE_SIZE = 100

# Every field the mapping reads.
RESPONSE_FIELDS = ("hits", "page", "nbPages")
HIT_FIELDS = (
    "objectID",
    "created_at_i",
    "title",
    "story_title",
    "url",
    "story_id",
    "story_text",
    "comment_text",
    "author",
    "points",
    "num_comments",
    "_tags",
)


def poll(config, state):
    base_url = base.base_url_from(config, DEFAULT_BASE_URL)
    query = str(config.get("query") or "").strip()
    if not query:
        raise base.config_error(_("This Hacker News source has no search words. Add some."))
    state = dict(state or {})
    since = state.get("since")
    seen = set(state.get("seen") or [])
    params = {
        "query": query,
        "tags": config.get("tags") or DEFAULT_TAGS,
        "hitsPerPage": PAGE_SIZE,
        "numericFilters": f"created_at_i>={int(since)}" if since is not None else None,
    }
    endpoint = f"{base_url}/api/v1/search_by_date"
    max_pages = base.max_pages_for(config)

    hits, problems = [], []
    retry_after = None
    complete = True
    page = 0
    while True:
        url = base.with_query(endpoint, {**params, "page": page or None})
        try:
            data, result = base.get_json(url, config=config, network=LABEL, explain=explain_error)
        except FetchError as error:
            if page and error.code == "rate_limited":
                retry_after = error.retry_after
                problems.append(base.partial_problem(error))
                complete = False
                break
            raise
        batch = base.page_list(data, "hits", LABEL, result.url)
        hits.extend(batch[: base.MAX_ITEMS - len(hits)])
        page += 1
        pages_total = data.get("nbPages")
        # The first poll takes the newest page only: a source starts from "now".
        if since is None or not batch or not isinstance(pages_total, int) or page >= pages_total:
            break
        if page >= max_pages or len(hits) >= base.MAX_ITEMS:
            problems.append(base.truncated_problem(LABEL, page))
            break

    items, guids = [], set()
    newest, newest_ids = since, set(seen)
    for hit in hits:
        try:
            item, created = map_hit(hit)
        except base.BadItem as error:
            problems.append(
                base.skipped_problem(
                    LABEL, hit.get("objectID") if isinstance(hit, dict) else None, error
                )
            )
            continue
        object_id = item.raw["id"]
        if newest is None or created > newest:
            newest, newest_ids = created, {object_id}
        elif created == newest:
            newest_ids.add(object_id)
        if object_id in seen or item.guid in guids:
            continue
        guids.add(item.guid)
        items.append(item)
    if complete and newest is not None:
        state["since"] = newest
        state["seen"] = sorted(newest_ids)[: base.MAX_SEEN]
    return base.PollResult(items=items, state=state, retry_after=retry_after, problems=problems)


def map_hit(hit):
    """A search hit (story or comment) as (ParsedItem, created_at_i)."""
    object_id = base.require(hit, "objectID")
    created = hit.get("created_at_i")
    if isinstance(created, bool) or not isinstance(created, int):
        raise base.BadItem(
            _("the field “%(field)s” is missing or malformed") % {"field": "created_at_i"}
        )
    published_at = base.from_timestamp(created)
    tags = [tag for tag in hit.get("_tags") or [] if isinstance(tag, str)]
    is_comment = "comment" in tags or bool(hit.get("comment_text"))
    body = hit.get("comment_text") if is_comment else hit.get("story_text")
    body = body if isinstance(body, str) else ""
    title = hit.get("title") or hit.get("story_title") or ""
    if not isinstance(title, str):
        raise base.BadItem(_("the field “%(field)s” is missing or malformed") % {"field": "title"})
    discussion = f"{WEB}/item?id={quote(object_id)}"
    link = hit.get("url") if isinstance(hit.get("url"), str) else ""
    author = hit.get("author") if isinstance(hit.get("author"), str) else ""
    raw = {"id": object_id, "type": "comment" if is_comment else "story", "hn_url": discussion}
    if hit.get("story_id") is not None:
        raw["story_id"] = str(hit["story_id"])
    item = ParsedItem(
        # A story links to what it discusses; a comment (or an Ask HN) to its HN page.
        url=link if link.startswith(("http://", "https://")) and not is_comment else discussion,
        guid=discussion,
        title=base.collapse(title),
        text=base.html_to_text(body),
        html=base.sanitize_html(body, WEB + "/"),
        author_name=author,
        author_handle=author,
        author_url=f"{WEB}/user?id={quote(author)}" if author else "",
        published_at=published_at,
        network=NETWORK,
        engagement={
            "points": base.count(hit, "points"),
            "comments": base.count(hit, "num_comments"),
        },
        raw=raw,
    )
    return item, created


def explain_error(error):
    status = error.status
    if status == 400:
        return "bad_request", _(
            "The Hacker News search rejected this source's settings (HTTP 400). Check the "
            "search words and the tag filter."
        )
    if status in (401, 403):
        return "auth", _(
            "The Hacker News search refused the request (HTTP %(status)s). Check that the base "
            "URL is the Algolia search API, such as %(default)s."
        ) % {"status": status, "default": DEFAULT_BASE_URL}
    if status in (404, 410):
        return "not_found", _(
            "%(url)s was not found (HTTP %(status)s). Check that the base URL is the Algolia "
            "search API, such as %(default)s."
        ) % {"url": error.url, "status": status, "default": DEFAULT_BASE_URL}
    return None
