"""Contract fake of Reddit's public JSON (read side): `/search.json` and
`/r/<name>/new.json`, as `Listing` objects of `t3` children, with `before`/`after` fullname
pagination and `limit`. Reddit publishes no machine-readable description; the shapes follow
its API documentation (listings, `t3` link fields). Like Reddit, it refuses a missing or
generic User-Agent (429), redirects an unknown subreddit to a subreddit search, and answers
403 for a private one.
"""

import html
import itertools
from datetime import UTC, datetime, timedelta

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from tribu.testing.fakes.server import FakeServer

EPOCH = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
GENERIC_AGENTS = ("python-requests", "python-urllib", "curl", "wget", "go-http-client", "urllib3")


def base36(number):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


class RedditFake(FakeServer):
    network = "reddit"

    def __init__(self):
        super().__init__()
        self.subreddits = {}  # lower-case name -> {"name", "private"}
        self.posts = []
        self._ids = itertools.count(36**5)
        self._clock = EPOCH

    def rules(self):
        return [
            Rule("/search.json", endpoint="search", methods=["GET"]),
            Rule("/r/<name>/new.json", endpoint="subreddit_new", methods=["GET"]),
            Rule("/subreddits/search.json", endpoint="subreddit_search", methods=["GET"]),
        ]

    def error_body(self, status, message):
        return {"message": message, "error": status}

    def add_subreddit(self, name, *, private=False):
        self.subreddits[name.lower()] = {"name": name, "private": private}

    def add_post(
        self,
        subreddit,
        title,
        *,
        selftext="",
        author="jeanne",
        link=None,
        score=1,
        comments=0,
        over_18=False,
    ):
        post_id = base36(next(self._ids))
        self._clock += timedelta(seconds=60)
        slug = "_".join(title.lower().split())[:40]
        permalink = f"/r/{subreddit}/comments/{post_id}/{slug}/"
        selftext_html = (
            f'<!-- SC_OFF --><div class="md"><p>{html.escape(selftext)}</p>\n</div><!-- SC_ON -->'
            if selftext
            else None
        )
        post = {
            "kind": "t3",
            "data": {
                "subreddit": subreddit,
                "subreddit_name_prefixed": f"r/{subreddit}",
                "selftext": selftext,
                "selftext_html": selftext_html,
                "author_fullname": f"t2_{base36(hash(author) & 0xFFFFFF)}",
                "title": title,
                "name": f"t3_{post_id}",
                "id": post_id,
                "ups": score,
                "score": score,
                "num_comments": comments,
                "upvote_ratio": 1.0,
                "is_self": link is None,
                "over_18": over_18,
                "author": author,
                "permalink": permalink,
                "url": link or f"https://www.reddit.com{permalink}",
                "domain": f"self.{subreddit}" if link is None else link.split("/")[2],
                "created": self._clock.timestamp(),
                "created_utc": self._clock.timestamp(),
            },
        }
        self.posts.append(post)
        return post

    def check_agent(self, request):
        agent = (request.headers.get("User-Agent") or "").lower()
        if not agent or agent.startswith(GENERIC_AGENTS):
            return self.error(429, "Too Many Requests")
        return None

    def listing(self, request, posts):
        """Reddit's listing paging: newest first; `before=X` gives the posts just newer
        than X, `after=X` the posts just older."""
        ordered = sorted(posts, key=lambda post: post["data"]["created_utc"], reverse=True)
        try:
            limit = min(max(int(request.args.get("limit", 25)), 1), 100)
        except ValueError:
            limit = 25
        names = [post["data"]["name"] for post in ordered]
        before, after = request.args.get("before"), request.args.get("after")
        if before:
            if before not in names:
                page, more_newer, more_older = [], False, False  # a deleted anchor: empty
            else:
                index = names.index(before)
                page = ordered[max(0, index - limit) : index]
                more_newer, more_older = index - limit > 0, True
        elif after:
            index = names.index(after) + 1 if after in names else len(ordered)
            page = ordered[index : index + limit]
            more_newer, more_older = index > 0, index + limit < len(ordered)
        else:
            page = ordered[:limit]
            more_newer, more_older = False, limit < len(ordered)
        data = {
            "after": page[-1]["data"]["name"] if page and more_older else None,
            "dist": len(page),
            "modhash": "",
            "geo_filter": "",
            "children": page,
            "before": page[0]["data"]["name"] if page and more_newer else None,
        }
        return self.json({"kind": "Listing", "data": data})

    def search(self, request):
        refused = self.check_agent(request)
        if refused:
            return refused
        query = (request.args.get("q") or "").lower()
        found = [
            post
            for post in self.posts
            if query
            and all(
                word in (post["data"]["title"] + " " + post["data"]["selftext"]).lower()
                for word in query.split()
            )
        ]
        return self.listing(request, found)

    def subreddit_new(self, request, name):
        refused = self.check_agent(request)
        if refused:
            return refused
        subreddit = self.subreddits.get(name.lower())
        if subreddit is None:
            # Reddit sends unknown subreddits to a subreddit search.
            return Response(status=302, headers={"Location": f"/subreddits/search.json?q={name}"})
        if subreddit["private"]:
            return self.json(
                {"reason": "private", "message": "Forbidden", "error": 403}, status=403
            )
        return self.listing(
            request,
            [post for post in self.posts if post["data"]["subreddit"].lower() == name.lower()],
        )

    def subreddit_search(self, request):
        return self.json(
            {
                "kind": "Listing",
                "data": {
                    "after": None,
                    "dist": 0,
                    "modhash": "",
                    "geo_filter": "",
                    "children": [],
                    "before": None,
                },
            }
        )
