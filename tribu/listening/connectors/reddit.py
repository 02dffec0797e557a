"""Reddit: search and subreddit listings, through the public JSON endpoints.

config: {"base_url": "https://www.reddit.com" (default), "mode": "search" | "subreddit",
         "query": "words" | "subreddit name", "max_pages": optional, "timeout": optional}
state:  {"before": fullname of the newest post seen ("t3_..."), "newest_utc": its time}

`before=<fullname>` lists the posts newer than that one, and the listing's `before` pages
further towards the newest. When the post we remember was deleted, Reddit answers an empty
listing forever; so an empty answer is checked once against the newest page, by time.
"""

import re
from urllib.parse import quote, urlsplit

from django.utils.translation import gettext as _

from tribu import __version__
from tribu.listening.connectors import base
from tribu.listening.fetch.http import FetchError
from tribu.listening.items import ParsedItem

NETWORK = "reddit"
LABEL = "Reddit"
DEFAULT_BASE_URL = "https://www.reddit.com"
WEB = "https://www.reddit.com"  # permalinks point to the public site, whatever the API base
MODES = ("search", "subreddit")
PAGE_SIZE = 100  # Reddit's maximum
SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
DELETED = ("[deleted]", "[removed]", "")

# Every field the mapping reads (Reddit publishes no machine-readable description).
LISTING_FIELDS = ("kind", "data")
LISTING_DATA_FIELDS = ("children", "before", "after")
POST_FIELDS = (
    "name",
    "id",
    "title",
    "selftext",
    "selftext_html",
    "author",
    "permalink",
    "url",
    "is_self",
    "score",
    "num_comments",
    "created_utc",
    "subreddit",
    "over_18",
)


def user_agent():
    """Reddit blocks generic clients and asks for `platform:app-id:version (contact)`."""
    from django.conf import settings

    site = getattr(settings, "TRIBU_BASE_URL", "") or "self-hosted"
    return f"server:tribu:{__version__} (social listening; +{site})"


def poll(config, state):
    base_url = base.base_url_from(config, DEFAULT_BASE_URL)
    mode = config.get("mode") or "search"
    query = str(config.get("query") or "").strip()
    if mode not in MODES:
        raise base.config_error(
            _("Unknown Reddit source type “%(mode)s”: use search or subreddit.") % {"mode": mode}
        )
    if mode == "subreddit":
        query = re.sub(r"^/?r/", "", query).strip("/")
        if not SUBREDDIT.match(query):
            raise base.config_error(
                _(
                    "“%(name)s” is not a subreddit name. Write it without spaces, for "
                    "example france or r/france."
                )
                % {"name": query}
            )
        endpoint = f"{base_url}/r/{quote(query)}/new.json"
        params = {"limit": PAGE_SIZE, "raw_json": 1}
    else:
        if not query:
            raise base.config_error(_("This Reddit source has no search words. Add some."))
        endpoint = f"{base_url}/search.json"
        params = {"q": query, "sort": "new", "type": "link", "limit": PAGE_SIZE, "raw_json": 1}
    headers = {"User-Agent": user_agent()}
    state = dict(state or {})
    before = state.get("before")
    newest_utc = state.get("newest_utc")
    max_pages = base.max_pages_for(config)

    def get(url):
        data, result = base.get_json(
            url,
            config=config,
            network=LABEL,
            headers=headers,
            explain=lambda error: explain_error(error, mode=mode, query=query),
        )
        if mode == "subreddit" and urlsplit(result.url).path.startswith("/subreddits/search"):
            # Reddit redirects an unknown subreddit to a subreddit search.
            raise FetchError("not_found", not_found_message(query), status=404, url=result.url)
        children = listing_children(data, result.url)
        return children, data["data"]

    posts, problems = [], []
    retry_after = None
    pages = 0
    cursor = before
    while True:
        try:
            children, listing = get(base.with_query(endpoint, {**params, "before": cursor}))
        except FetchError as error:
            if pages and error.code == "rate_limited":
                retry_after = error.retry_after
                problems.append(base.partial_problem(error))
                break
            raise
        pages += 1
        posts.extend(children[: base.MAX_ITEMS - len(posts)])
        if not before:
            break  # the first poll takes the newest page only: a source starts from "now"
        if not children and pages == 1 and newest_utc is not None:
            # The remembered post may have been deleted: compare times on the newest page.
            children, listing = get(base.with_query(endpoint, params))
            posts = [child for child in children if newer_than(child, newest_utc)]
            break
        cursor = listing.get("before")
        if not children or not isinstance(cursor, str) or not cursor:
            break
        if pages >= max_pages or len(posts) >= base.MAX_ITEMS:
            break  # the next poll goes on from the newest post read

    items, guids = [], set()
    newest = (newest_utc, before) if before else None
    for child in posts:
        try:
            item, created = map_post(child)
        except base.BadItem as error:
            problems.append(base.skipped_problem(LABEL, child_name(child), error))
            continue
        if newest is None or newest[0] is None or created > newest[0]:
            newest = (created, item.raw["fullname"])
        if item.guid not in guids:
            guids.add(item.guid)
            items.append(item)
    if newest and newest[1]:
        state["newest_utc"], state["before"] = newest
    return base.PollResult(items=items, state=state, retry_after=retry_after, problems=problems)


def listing_children(data, url):
    if (
        not isinstance(data, dict)
        or data.get("kind") != "Listing"
        or not isinstance(data.get("data"), dict)
    ):
        raise base.bad_response(LABEL, url)
    return base.page_list(data["data"], "children", LABEL, url)


def child_name(child):
    data = child.get("data") if isinstance(child, dict) else None
    return data.get("name") if isinstance(data, dict) else None


def newer_than(child, newest_utc):
    data = child.get("data") if isinstance(child, dict) else None
    created = data.get("created_utc") if isinstance(data, dict) else None
    return isinstance(created, int | float) and created > newest_utc


def map_post(child):
    """A listing child ("t3" link) as (ParsedItem, created_utc)."""
    if not isinstance(child, dict) or child.get("kind") != "t3":
        raise base.BadItem(_("it is not a post"))
    post = base.require(child, "data", dict)
    fullname = base.require(post, "name")
    created = post.get("created_utc")
    published_at = base.from_timestamp(created)
    permalink = base.require(post, "permalink")
    title = base.require(post, "title")
    author = post.get("author") if isinstance(post.get("author"), str) else ""
    selftext = post.get("selftext") if isinstance(post.get("selftext"), str) else ""
    selftext_html = post.get("selftext_html") if isinstance(post.get("selftext_html"), str) else ""
    raw = {
        "fullname": fullname,
        "id": post.get("id") or "",
        "subreddit": post.get("subreddit") or "",
        "over_18": bool(post.get("over_18")),
    }
    link = post.get("url")
    if (
        not post.get("is_self")
        and isinstance(link, str)
        and link.startswith(("http://", "https://"))
    ):
        raw["link_url"] = link
    known_author = author not in DELETED
    item = ParsedItem(
        url=WEB + "/" + permalink.lstrip("/"),
        guid=fullname,
        title=base.collapse(title),
        text=base.collapse(selftext) if selftext not in ("[deleted]", "[removed]") else "",
        html=base.sanitize_html(selftext_html, WEB + "/"),
        author_name=author if known_author else "",
        author_handle=f"u/{author}" if known_author else "",
        author_url=f"{WEB}/user/{quote(author)}" if known_author else "",
        published_at=published_at,
        network=NETWORK,
        engagement={
            "score": base.count(post, "score"),
            "comments": base.count(post, "num_comments"),
        },
        raw=raw,
    )
    return item, float(created)


def not_found_message(name):
    return _(
        "The subreddit r/%(name)s does not exist (or was banned). Check its name on reddit.com."
    ) % {"name": name}


def explain_error(error, *, mode, query):
    status = error.status
    if status == 403 and mode == "subreddit":
        return "auth", _(
            "Reddit refused access to r/%(name)s (HTTP 403): the subreddit is private or "
            "quarantined, or Reddit blocks unauthenticated requests from this server. Check "
            "the subreddit in a browser; if it is public, try again later."
        ) % {"name": query}
    if status in (401, 403):
        return "auth", _(
            "Reddit refused the request (HTTP %(status)s): it blocks unauthenticated requests "
            "from some servers. Try again later, or run Tribu from another network."
        ) % {"status": status}
    if status in (404, 410) and mode == "subreddit":
        return "not_found", not_found_message(query)
    if status in (404, 410):
        return "not_found", _(
            "%(url)s was not found (HTTP %(status)s). Check the source's base URL, such as "
            "%(default)s."
        ) % {"url": error.url, "status": status, "default": DEFAULT_BASE_URL}
    return None
