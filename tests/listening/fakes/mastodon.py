"""Contract fake of a Mastodon instance (read side): hashtag timeline, account lookup and
statuses, v2 search, with Mastodon's id pagination (max_id, since_id, min_id and the Link
header). Accounts and statuses are built with every field the OpenAPI description requires,
and tests validate them against it.
"""

import html
import itertools
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from werkzeug.routing import Rule

from tribu.testing.fakes.server import FakeServer

EPOCH = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class MastodonFake(FakeServer):
    network = "mastodon"

    def __init__(
        self,
        *,
        domain="mastodon.example",
        public_preview=True,
        token="secret-token",  # noqa: S107 (the fake's only valid token)
        anonymous_search="empty",
    ):
        super().__init__()
        self.domain = domain
        self.public_preview = public_preview  # False: timelines need a token (401)
        self.token = token
        self.anonymous_search = anonymous_search  # "empty" (Mastodon 4) or "401"
        self.accounts = []
        self.statuses = []  # any order; endpoints sort by id
        self._ids = itertools.count(113_000_000_000_000_000)
        self._clock = EPOCH

    def rules(self):
        return [
            Rule("/api/v1/timelines/tag/<hashtag>", endpoint="tag_timeline", methods=["GET"]),
            Rule("/api/v1/accounts/lookup", endpoint="account_lookup", methods=["GET"]),
            Rule(
                "/api/v1/accounts/<account_id>/statuses",
                endpoint="account_statuses",
                methods=["GET"],
            ),
            Rule("/api/v2/search", endpoint="search", methods=["GET"]),
        ]

    def error_body(self, status, message):
        return {"error": message}  # components/schemas/Error

    # --- data ----------------------------------------------------------------------
    def next_id(self):
        return str(next(self._ids))

    def tick(self, seconds=60):
        self._clock += timedelta(seconds=seconds)
        return self._clock

    def add_account(self, username, *, domain=None, display_name=None, followers=10):
        """A local account, or a remote one when `domain` differs from the instance's."""
        remote = domain and domain != self.domain
        host = domain or self.domain
        account = {
            "id": self.next_id(),
            "username": username,
            "acct": f"{username}@{host}" if remote else username,
            "url": f"https://{host}/@{username}",
            "uri": f"https://{host}/users/{username}",
            "display_name": display_name if display_name is not None else username.title(),
            "note": "<p>Bio</p>",
            "avatar": f"https://{self.domain}/avatars/original/missing.png",
            "avatar_static": f"https://{self.domain}/avatars/original/missing.png",
            "header": f"https://{self.domain}/headers/original/missing.png",
            "header_static": f"https://{self.domain}/headers/original/missing.png",
            "locked": False,
            "fields": [],
            "emojis": [],
            "bot": False,
            "group": False,
            "discoverable": True,
            "indexable": True,
            "created_at": iso(EPOCH - timedelta(days=400)),
            "last_status_at": "2026-03-01",
            "statuses_count": 0,
            "followers_count": followers,
            "following_count": 3,
        }
        self.accounts.append(account)
        return account

    def add_status(
        self,
        account,
        text="",
        *,
        tags=(),
        language="fr",
        favourites=0,
        reblogs=0,
        replies=0,
        spoiler="",
        content=None,
        reblog=None,
    ):
        """A public status; `reblog=status` makes a boost of it by `account`."""
        status_id = self.next_id()
        created = self.tick()
        host = account["url"].split("/")[2]
        if content is None:
            words = html.escape(text)
            links = " ".join(
                f'<a href="https://{self.domain}/tags/{tag}" class="mention hashtag" '
                f'rel="tag">#<span>{tag}</span></a>'
                for tag in tags
            )
            content = f"<p>{words}{' ' + links if links else ''}</p>" if not reblog else ""
        status = {
            "id": status_id,
            "created_at": iso(created),
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": bool(spoiler),
            "spoiler_text": spoiler,
            "visibility": "public",
            "language": language if not reblog else None,
            "uri": f"https://{host}/users/{account['username']}/statuses/{status_id}"
            + ("/activity" if reblog else ""),
            "url": None if reblog else f"https://{host}/@{account['username']}/{status_id}",
            "replies_count": replies,
            "reblogs_count": reblogs,
            "favourites_count": favourites,
            "edited_at": None,
            "content": content,
            "reblog": reblog,
            "account": account,
            "media_attachments": [],
            "mentions": [],
            "tags": []
            if reblog
            else [
                {"name": tag.lower(), "url": f"https://{self.domain}/tags/{tag.lower()}"}
                for tag in tags
            ],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        self.statuses.append(status)
        account["statuses_count"] += 1
        return status

    # --- auth ----------------------------------------------------------------------
    def auth(self, request):
        """(authenticated, error response). A wrong token is refused everywhere."""
        token = self.bearer(request)
        if token is None:
            return False, None
        if token != self.token:
            return False, self.error(401, "The access token is invalid")
        return True, None

    # --- pagination ------------------------------------------------------------------
    def paginate(self, request, statuses):
        key = lambda status: int(status["id"])  # noqa: E731
        ordered = sorted(statuses, key=key, reverse=True)
        try:
            limit = min(max(int(request.args.get("limit", 20)), 1), 40)
        except ValueError:
            limit = 20
        max_id, since_id, min_id = (
            request.args.get(name) for name in ("max_id", "since_id", "min_id")
        )
        if max_id:
            ordered = [status for status in ordered if key(status) < int(max_id)]
        if since_id:
            ordered = [status for status in ordered if key(status) > int(since_id)]
        if min_id:
            # min_id pages forward: the statuses just after min_id, shown newest first.
            ordered = [status for status in ordered if key(status) > int(min_id)][-limit:]
        page = ordered[:limit]
        headers = {}
        if page:
            keep = {
                name: value
                for name, value in request.args.items()
                if name not in ("max_id", "since_id", "min_id")
            }
            base = self.base_url + request.path + "?"
            next_url = base + urlencode({**keep, "max_id": page[-1]["id"]})
            prev_url = base + urlencode({**keep, "min_id": page[0]["id"]})
            headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'
        return page, headers

    # --- endpoints -------------------------------------------------------------------
    def tag_timeline(self, request, hashtag):
        authenticated, refused = self.auth(request)
        if refused:
            return refused
        if not self.public_preview and not authenticated:
            return self.error(401, "This method requires an authenticated user")
        name = hashtag.lower()
        tagged = [
            status
            for status in self.statuses
            if status["reblog"] is None and any(tag["name"] == name for tag in status["tags"])
        ]
        page, headers = self.paginate(request, tagged)
        return self.json(page, headers=headers)

    def account_lookup(self, request):
        _authenticated, refused = self.auth(request)
        if refused:
            return refused
        acct = (request.args.get("acct") or "").lstrip("@")
        if acct.endswith("@" + self.domain):
            acct = acct[: -len(self.domain) - 1]
        for account in self.accounts:
            if account["acct"].lower() == acct.lower():
                return self.json(account)
        return self.error(404, "Record not found")

    def account_statuses(self, request, account_id):
        _authenticated, refused = self.auth(request)
        if refused:
            return refused
        if not any(account["id"] == account_id for account in self.accounts):
            return self.error(404, "Record not found")
        page, headers = self.paginate(
            request, [s for s in self.statuses if s["account"]["id"] == account_id]
        )
        return self.json(page, headers=headers)

    def search(self, request):
        authenticated, refused = self.auth(request)
        if refused:
            return refused
        query = (request.args.get("q") or "").lower()
        if not query:
            return self.error(400, "Validation failed: q is missing")
        if not authenticated and request.args.get("offset"):
            return self.error(401, "Search queries with offset require a valid user token")
        result = {"accounts": [], "statuses": [], "hashtags": []}
        if request.args.get("type") not in (None, "statuses"):
            return self.json(result)
        if not authenticated:
            if self.anonymous_search == "401":
                return self.error(401, "This method requires an authenticated user")
            # Mastodon 4: full-text search of statuses is for signed-in users only.
            return self.json(result)
        found = [
            s
            for s in self.statuses
            if s["reblog"] is None and query in html.unescape(s["content"]).lower()
        ]
        page, _headers = self.paginate(request, found)
        result["statuses"] = page
        return self.json(result)
