"""Bluesky: post search (`app.bsky.feed.searchPosts`) against a configurable AppView.

config: {"base_url": "https://public.api.bsky.app" (default), "query": "words",
         "lang": optional language filter, "access_token": optional bearer token,
         "max_pages": optional, "timeout": optional}
state:  {"since": newest sort time seen (ISO 8601), "seen": URIs of posts at that time}

`since` is inclusive, so the posts already seen at that exact time are remembered and
skipped. Results come newest first; the cursor pages towards older posts, down to `since`.
The public AppView has refused unauthenticated searches since early 2025: the error says so,
and a token (or another AppView or PDS URL) lifts it.
"""

from urllib.parse import quote, urlsplit

from django.utils.translation import gettext as _

from tribu.listening.connectors import base
from tribu.listening.fetch.http import FetchError
from tribu.listening.items import ParsedItem

NETWORK = "bluesky"
LABEL = "Bluesky"
DEFAULT_BASE_URL = "https://public.api.bsky.app"
WEB = "https://bsky.app"
PAGE_SIZE = 100  # the lexicon's maximum
POST_COLLECTION = "app.bsky.feed.post"

# Every field the mapping reads; tests check each one exists in the lexicons.
OUTPUT_FIELDS = ("posts", "cursor")
POST_VIEW_FIELDS = (
    "uri",
    "cid",
    "author",
    "record",
    "indexedAt",
    "likeCount",
    "repostCount",
    "replyCount",
    "quoteCount",
)
PROFILE_FIELDS = ("did", "handle", "displayName")
RECORD_FIELDS = ("text", "createdAt", "langs", "tags")


def poll(config, state):
    base_url = base.base_url_from(config, DEFAULT_BASE_URL)
    query = str(config.get("query") or "").strip()
    if not query:
        raise base.config_error(_("This Bluesky source has no search words. Add some."))
    token = str(config.get("access_token") or "").strip()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    state = dict(state or {})
    since = state.get("since")
    seen = set(state.get("seen") or [])
    endpoint = f"{base_url}/xrpc/app.bsky.feed.searchPosts"
    params = {
        "q": query,
        "sort": "latest",
        "limit": PAGE_SIZE,
        "since": since,
        "lang": config.get("lang"),
    }
    max_pages = base.max_pages_for(config)

    def explain(error):
        return explain_error(error, base_url=base_url, token=bool(token))

    posts, problems = [], []
    retry_after = None
    cursor = None
    pages = 0
    complete = True
    while True:
        url = base.with_query(endpoint, {**params, "cursor": cursor})
        try:
            data, result = base.get_json(
                url, config=config, network=LABEL, explain=explain, headers=headers
            )
        except FetchError as error:
            if pages and error.code == "rate_limited":
                retry_after = error.retry_after
                problems.append(base.partial_problem(error))
                complete = False
                break
            raise
        pages += 1
        page = base.page_list(data, "posts", LABEL, result.url)
        posts.extend(page[: base.MAX_ITEMS - len(posts)])
        cursor = data.get("cursor")
        # The first poll takes the newest page only: a source starts from "now".
        if not since or not page or not isinstance(cursor, str) or not cursor:
            break
        if pages >= max_pages or len(posts) >= base.MAX_ITEMS:
            problems.append(base.truncated_problem(LABEL, pages))
            break

    items, guids = [], set()
    newest, newest_uris = since, set(seen)
    for post in posts:
        try:
            item, sort_at = map_post(post)
        except base.BadItem as error:
            problems.append(
                base.skipped_problem(
                    LABEL, post.get("uri") if isinstance(post, dict) else None, error
                )
            )
            continue
        # A fixed-width form, so that comparing the strings compares the times.
        stamp = sort_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if newest is None or stamp > newest:
            newest, newest_uris = stamp, {item.guid}
        elif stamp == newest:
            newest_uris.add(item.guid)
        if item.guid in seen or item.guid in guids:
            continue
        guids.add(item.guid)
        items.append(item)
    if complete and newest:
        state["since"] = newest
        state["seen"] = sorted(newest_uris)[: base.MAX_SEEN]
    return base.PollResult(items=items, state=state, retry_after=retry_after, problems=problems)


def map_post(post):
    """A postView as (ParsedItem, sort time). The sort time is the earlier of createdAt
    and indexedAt, as the AppView's `since` filter uses."""
    uri = base.require(post, "uri")
    author = base.require(post, "author", dict)
    record = base.require(post, "record", dict)
    did = base.require(author, "did")
    handle = author.get("handle") if isinstance(author.get("handle"), str) else ""
    text = record.get("text")
    if not isinstance(text, str):
        raise base.BadItem(_("the field “%(field)s” is missing or malformed") % {"field": "text"})
    indexed_at = base.parse_datetime(post.get("indexedAt"))
    try:
        created_at = base.parse_datetime(record.get("createdAt"))
    except base.BadItem:
        created_at = indexed_at
    sort_at = min(created_at, indexed_at)
    # Handles change and may be "handle.invalid"; the DID always names the account.
    profile = handle if handle and handle != "handle.invalid" else did
    rkey = rkey_of(uri, did)
    langs = [lang for lang in record.get("langs") or [] if isinstance(lang, str)]
    tags = [tag for tag in record.get("tags") or [] if isinstance(tag, str)]
    item = ParsedItem(
        url=f"{WEB}/profile/{quote(profile, safe=':.')}/post/{quote(rkey, safe='')}",
        guid=uri,
        text=base.collapse(text),
        author_name=base.collapse(author.get("displayName") or "") or handle,
        author_handle="@" + (handle or did),
        author_url=f"{WEB}/profile/{quote(profile, safe=':.')}",
        author_followers=None,  # not in profileViewBasic; getProfile would cost a call per author
        published_at=sort_at,
        network=NETWORK,
        engagement={
            "likes": base.count(post, "likeCount"),
            "reposts": base.count(post, "repostCount"),
            "replies": base.count(post, "replyCount"),
            "quotes": base.count(post, "quoteCount"),
        },
        raw={"uri": uri, "cid": post.get("cid") or "", "did": did, "langs": langs, "tags": tags},
    )
    return item, sort_at


def rkey_of(uri, did):
    """The record key of at://<did>/app.bsky.feed.post/<rkey>."""
    if not uri.startswith("at://"):
        raise base.BadItem(_("the post URI “%(uri)s” is not an at:// URI") % {"uri": uri[:80]})
    parts = urlsplit(uri).path.strip("/").split("/")
    if len(parts) != 2 or parts[0] != POST_COLLECTION or not parts[1]:
        raise base.BadItem(_("the post URI “%(uri)s” is not an at:// URI") % {"uri": uri[:80]})
    return parts[1]


def explain_error(error, *, base_url, token):
    status = error.status
    host = urlsplit(base_url).netloc
    if status in (401, 403) and not token:
        return "auth", _(
            "%(host)s refuses post searches without signing in (HTTP %(status)s); Bluesky's "
            "public AppView has required it since 2025. Add a Bluesky access token to the "
            "source, or set its base URL to an AppView or PDS that allows your searches."
        ) % {"host": host, "status": status}
    if status in (401, 403):
        return "auth", _(
            "%(host)s refused the Bluesky access token (HTTP %(status)s): it has expired or "
            "was revoked. Sign in again to get a new one and update the source."
        ) % {"host": host, "status": status}
    if status == 400:
        return "bad_request", _(
            "%(host)s rejected the search (HTTP 400): the search words use a syntax it does "
            "not accept, or the access token has expired. Simplify the search words, or "
            "renew the token."
        ) % {"host": host}
    if status in (404, 501):
        return "not_found", _(
            "%(host)s does not offer post search (HTTP %(status)s). Check the base URL: it "
            "must be a Bluesky AppView, such as %(default)s."
        ) % {"host": host, "status": status, "default": DEFAULT_BASE_URL}
    return None
