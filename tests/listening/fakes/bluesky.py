"""Contract fake of a Bluesky AppView (read side): `app.bsky.feed.searchPosts` with `q`,
`sort`, `since`, `until`, `lang`, `limit` and an opaque `cursor`, answering postViews built
from the lexicons (tests validate them). XRPC errors are `{"error", "message"}`.
"""

import base64
import itertools
from datetime import UTC, datetime, timedelta

from werkzeug.routing import Rule

from tribu.testing.fakes.server import FakeServer

EPOCH = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse(value):
    value = value.replace("Z", "+00:00")
    if len(value) == 10:  # an ISO date alone
        value += "T00:00:00+00:00"
    return datetime.fromisoformat(value)


def tid(number):
    out = ""
    for _ in range(13):
        out = TID_ALPHABET[number & 31] + out
        number >>= 5
    return out


class BlueskyFake(FakeServer):
    network = "bluesky"

    def __init__(self, *, require_auth=False, token="bsky-token"):  # noqa: S107 (fake)
        super().__init__()
        self.require_auth = require_auth  # like public.api.bsky.app since 2025: 403
        self.token = token
        self.posts = []
        self._seq = itertools.count(1)
        self._clock = EPOCH

    def rules(self):
        return [Rule("/xrpc/app.bsky.feed.searchPosts", endpoint="search_posts", methods=["GET"])]

    def error_body(self, status, message):
        names = {
            400: "InvalidRequest",
            401: "AuthMissing",
            403: "Forbidden",
            429: "RateLimitExceeded",
        }
        return {"error": names.get(status, "InternalServerError"), "message": message}

    def tick(self, seconds=60):
        self._clock += timedelta(seconds=seconds)
        return self._clock

    def add_post(
        self,
        handle,
        text,
        *,
        display_name=None,
        likes=0,
        reposts=0,
        replies=0,
        quotes=0,
        langs=("en",),
        tags=None,
        created_at=None,
        indexed_at=None,
    ):
        number = next(self._seq)
        moment = self.tick()
        did = "did:plc:" + base64.b32encode(handle.encode()).decode().lower().rstrip("=")[
            :24
        ].ljust(24, "a")
        rkey = tid(int(moment.timestamp() * 1_000_000) << 10 | number)
        record = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": created_at or iso(moment),
            "langs": list(langs),
        }
        if tags:
            record["tags"] = list(tags)
        author = {"did": did, "handle": handle, "createdAt": iso(EPOCH - timedelta(days=300))}
        if display_name is not None:
            author["displayName"] = display_name
        post = {
            "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
            "cid": "bafyreib" + f"{number:052d}"[:52],
            "author": author,
            "record": record,
            "replyCount": replies,
            "repostCount": reposts,
            "likeCount": likes,
            "quoteCount": quotes,
            "indexedAt": indexed_at or iso(moment),
            "labels": [],
        }
        self.posts.append(post)
        return post

    @staticmethod
    def sort_at(post):
        return min(parse(post["record"]["createdAt"]), parse(post["indexedAt"]))

    def search_posts(self, request):
        token = self.bearer(request)
        if token is not None and token != self.token:
            return self.error(401, "Token could not be verified")
        if self.require_auth and token is None:
            return self.error(403, "Forbidden")
        query = (request.args.get("q") or "").strip().lower()
        if not query:
            return self.error(400, 'Error: Params must have the property "q"')
        try:
            limit = min(max(int(request.args.get("limit", 25)), 1), 100)
        except ValueError:
            return self.error(400, "Error: limit must be an integer")
        found = [
            post
            for post in self.posts
            if all(word in str(post["record"].get("text", "")).lower() for word in query.split())
        ]
        if request.args.get("lang"):
            found = [
                post for post in found if request.args["lang"] in post["record"].get("langs", [])
            ]
        if request.args.get("since"):
            since = parse(request.args["since"])
            found = [post for post in found if self.sort_at(post) >= since]  # inclusive
        if request.args.get("until"):
            until = parse(request.args["until"])
            found = [post for post in found if self.sort_at(post) < until]
        found.sort(key=lambda post: (self.sort_at(post), post["uri"]), reverse=True)
        offset = 0
        if request.args.get("cursor"):
            try:
                offset = int(base64.urlsafe_b64decode(request.args["cursor"]).decode())
            except ValueError:
                return self.error(400, "Error: malformed cursor")
        page = found[offset : offset + limit]
        body = {"posts": page, "hitsTotal": len(found)}
        if offset + limit < len(found):
            body["cursor"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        return self.json(body)
