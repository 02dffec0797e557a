"""Mastodon (and servers speaking its API): hashtag timelines, account statuses and
status search, on any instance.

config: {"base_url": "https://mastodon.social", "mode": "hashtag" | "account" | "search",
         "query": "tribu" | "jeanne@example.org" | "some words", "access_token": optional,
         "max_pages": optional, "timeout": optional}
state:  {"min_id": newest status id seen, "account": acct, "account_instance": host,
         "account_id": the account's id on that instance}

Incremental polling uses `min_id`, which pages *forward* from the id we saw last; the
server's Link header `rel="prev"` gives the next newer page. A page cap bounds one poll; the
next poll resumes where it stopped, so nothing is lost.
"""

from urllib.parse import quote, urlsplit

from django.utils.translation import gettext as _

from tribu.listening.connectors import base
from tribu.listening.fetch.http import FetchError
from tribu.listening.items import ParsedItem

NETWORK = "mastodon"
LABEL = "Mastodon"
MODES = ("hashtag", "account", "search")
PAGE_SIZE = 40  # the largest page Mastodon serves for timelines and search

# Every field the mapping reads; tests check each one exists in the OpenAPI description.
STATUS_FIELDS = (
    "id",
    "uri",
    "url",
    "content",
    "spoiler_text",
    "created_at",
    "account",
    "reblog",
    "tags",
    "language",
    "favourites_count",
    "reblogs_count",
    "replies_count",
)
ACCOUNT_FIELDS = ("id", "acct", "username", "display_name", "url", "followers_count")
TAG_FIELDS = ("name",)
SEARCH_FIELDS = ("statuses",)


def id_key(status_id):
    # Mastodon ids are numeric strings of growing length; other servers use ULIDs of a
    # fixed length. Comparing (length, text) orders both correctly.
    return (len(status_id), status_id)


def poll(config, state):
    base_url = base.base_url_from(config)
    if not base_url:
        raise base.config_error(
            _(
                "This Mastodon source has no instance address. Set its base URL, for example "
                "https://mastodon.social."
            )
        )
    mode = config.get("mode") or "hashtag"
    query = str(config.get("query") or "").strip()
    if mode not in MODES:
        raise base.config_error(
            _("Unknown Mastodon source type “%(mode)s”: use hashtag, account or search.")
            % {"mode": mode}
        )
    if mode == "hashtag":
        query = query.lstrip("#")
    elif mode == "account":
        query = query.lstrip("@")
    if not query:
        raise base.config_error(
            _(
                "This Mastodon source has nothing to follow: give it a hashtag, an account "
                "or search words."
            )
        )
    token = str(config.get("access_token") or "").strip()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    instance = urlsplit(base_url).netloc
    state = dict(state or {})

    def explain(error):
        return explain_error(error, mode=mode, query=query, instance=instance, token=bool(token))

    def get(url):
        return base.get_json(url, config=config, network=LABEL, explain=explain, headers=headers)

    params = {"limit": PAGE_SIZE}
    if mode == "hashtag":
        endpoint = f"{base_url}/api/v1/timelines/tag/{quote(query, safe='')}"
    elif mode == "account":
        # The id is the instance's own: it is cached with the instance it came from.
        cached = (state.get("account"), state.get("account_instance"))
        if cached != (query, instance) or not state.get("account_id"):
            account, _result = get(
                base.with_query(f"{base_url}/api/v1/accounts/lookup", {"acct": query})
            )
            state["account"] = query
            state["account_instance"] = instance
            state["account_id"] = base.require(account, "id")
        endpoint = f"{base_url}/api/v1/accounts/{quote(state['account_id'], safe='')}/statuses"
    else:
        endpoint = f"{base_url}/api/v2/search"
        params.update({"q": query, "type": "statuses", "resolve": "false"})

    min_id = state.get("min_id")
    if min_id:
        params["min_id"] = min_id
    url = base.with_query(endpoint, params)
    max_pages = base.max_pages_for(config)
    statuses, problems = [], []
    retry_after = None
    pages = 0
    while url:
        try:
            data, result = get(url)
        except FetchError as error:
            if pages and error.code == "rate_limited":
                retry_after = error.retry_after
                problems.append(base.partial_problem(error))
                break
            raise
        pages += 1
        page = base.page_list(data, "statuses" if mode == "search" else None, LABEL, result.url)
        statuses.extend(page[: base.MAX_ITEMS - len(statuses)])
        # The first poll takes the newest page only: a source starts from "now".
        if not min_id or not page or len(statuses) >= base.MAX_ITEMS:
            break
        newer = base.parse_links(result.headers.get("link")).get("prev")
        url = newer if newer and base.same_origin(newer, base_url) else None
        if url and pages >= max_pages:
            # The next poll resumes from the newest id read, so nothing is lost.
            break

    items, seen = [], set()
    newest = min_id
    for status in statuses:
        # A skipped status still moves the cursor: it would be just as unreadable next time.
        outer_id = status_id(status)
        if (
            isinstance(outer_id, str)
            and outer_id
            and (newest is None or id_key(outer_id) > id_key(newest))
        ):
            newest = outer_id
        try:
            item = map_status(status, instance=instance)
        except base.BadItem as error:
            problems.append(base.skipped_problem(LABEL, outer_id, error))
            continue
        if item.guid not in seen:
            seen.add(item.guid)
            items.append(item)
    if newest:
        state["min_id"] = newest
    if mode == "search" and not token and not min_id and not items:
        problems.append(
            _(
                "%(instance)s found no statuses. Without an access token most Mastodon "
                "instances do not search the text of statuses (only hashtags and accounts), "
                "and some have full-text search turned off: add an access token with the "
                "read:search scope, or follow a hashtag instead."
            )
            % {"instance": instance}
        )
    return base.PollResult(items=items, state=state, retry_after=retry_after, problems=problems)


def status_id(status):
    return status.get("id") if isinstance(status, dict) else None


def map_status(status, *, instance):
    """A Status as a ParsedItem. A boost becomes the status it boosts (the dedupe step then
    groups it with the original); who boosted it is kept in `raw`."""
    boosted_by = None
    original = status.get("reblog") if isinstance(status, dict) else None
    if original is not None:
        boosted_by = handle_of(base.require(status, "account", dict), instance)
        status = original
    content = status.get("content")
    if not isinstance(content, str):
        raise base.BadItem(
            _("the field “%(field)s” is missing or malformed") % {"field": "content"}
        )
    account = base.require(status, "account", dict)
    uri = base.require(status, "uri")
    published_at = base.parse_datetime(status.get("created_at"))
    tags = [
        tag["name"] for tag in status.get("tags") or [] if isinstance(tag, dict) and tag.get("name")
    ]
    raw = {"id": base.require(status, "id"), "tags": tags, "language": status.get("language") or ""}
    if boosted_by:
        raw["boosted_by"] = boosted_by
    name = account.get("display_name") or account.get("username") or ""
    return ParsedItem(
        url=status.get("url") or uri,
        guid=uri,
        title=base.collapse(status.get("spoiler_text") or ""),
        text=base.html_to_text(content),
        html=base.sanitize_html(content, status.get("url") or ""),
        author_name=base.collapse(name),
        author_handle=handle_of(account, instance),
        author_url=account.get("url") or "",
        author_followers=base.count(account, "followers_count"),
        published_at=published_at,
        network=NETWORK,
        engagement={
            "likes": base.count(status, "favourites_count"),
            "reposts": base.count(status, "reblogs_count"),
            "replies": base.count(status, "replies_count"),
        },
        raw=raw,
    )


def handle_of(account, instance):
    """ "@user@domain" for every account: local accounts carry no domain in `acct`, so it
    comes from their profile URL (the instance's public name), else from the base URL."""
    acct = base.require(account, "acct")
    if "@" in acct:
        return "@" + acct
    domain = urlsplit(account.get("url") or "").hostname or instance
    return f"@{acct}@{domain}"


def explain_error(error, *, mode, query, instance, token):
    status = error.status
    if status == 401 and token:
        return "auth", _(
            "%(instance)s refused the access token (HTTP 401): it was revoked or mistyped. "
            "Create a new one in the instance's settings (Development, New application, read "
            "scopes) and update the source."
        ) % {"instance": instance}
    if status in (401, 403) and mode == "search":
        return "auth", _(
            "%(instance)s does not let this source search statuses (HTTP %(status)s). Add an "
            "access token with the read:search scope; note that many instances turn full-text "
            "search off entirely, so a hashtag source may be the only way to listen there."
        ) % {"instance": instance, "status": status}
    if status == 401:
        return "auth", _(
            "%(instance)s only shows this timeline to signed-in users (HTTP 401). Add an "
            "access token with the read:statuses scope to the source."
        ) % {"instance": instance}
    if status == 403:
        return "auth", _(
            "%(instance)s refused access (HTTP 403): the access token lacks the read scope, "
            "or the instance blocks this server. Create a token with read scopes, or use "
            "another instance."
        ) % {"instance": instance}
    if status in (404, 410) and mode == "account":
        return "not_found", _(
            "%(instance)s does not know the account %(account)s (HTTP %(status)s). Check the "
            "spelling (user or user@domain); a remote account is only known to an instance "
            "once someone there follows it, and a suspended one is gone."
        ) % {"instance": instance, "account": query, "status": status}
    if status in (404, 410):
        return "not_found", _(
            "%(url)s was not found (HTTP %(status)s). Check that the base URL is the address "
            "of a Mastodon instance (or compatible server), such as https://mastodon.social."
        ) % {"url": error.url, "status": status}
    if status == 422:
        return "invalid_config", _(
            "%(instance)s rejected this %(mode)s source's settings (HTTP 422). Check the "
            "hashtag, account or search words."
        ) % {"instance": instance, "mode": mode}
    return None
