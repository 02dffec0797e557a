"""Contract fake of the Algolia Hacker News search API: `/api/v1/search_by_date` with
`query`, `tags` (comma = AND, parentheses = OR), `numericFilters` (`created_at_i>X`, `>=`,
`<`, `<=`), `hitsPerPage`, `page`, and the 1,000-hit cap. Hits carry the fields the API
returns for stories and comments.
"""

import itertools
import re
from datetime import UTC, datetime, timedelta

from werkzeug.routing import Rule

from tribu.testing.fakes.server import FakeServer

EPOCH = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FILTER = re.compile(r"^(created_at_i|points|num_comments)(>=|<=|>|<|=)(\d+)$")
MAX_HITS = 1000


def number(value):
    return value if isinstance(value, int) else 0  # tests corrupt hits on purpose


class HackerNewsFake(FakeServer):
    network = "hackernews"

    def __init__(self):
        super().__init__()
        self.hits = []
        self._ids = itertools.count(40_000_000)
        self._clock = EPOCH

    def rules(self):
        return [Rule("/api/v1/search_by_date", endpoint="search_by_date", methods=["GET"])]

    def error_body(self, status, message):
        return {"message": message, "status": status}

    def tick(self, seconds=60):
        self._clock += timedelta(seconds=seconds)
        return self._clock

    def _base(self, author, kind, extra_tags=()):
        object_id = str(next(self._ids))
        moment = self.tick()
        return {
            "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "created_at_i": int(moment.timestamp()),
            "author": author,
            "objectID": object_id,
            "_tags": [kind, f"author_{author}", *extra_tags],
            "updated_at": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }

    def add_story(
        self, title, *, url=None, text=None, author="pg", points=1, comments=0, same_second=False
    ):
        hit = self._base(author, "story")
        if same_second and self.hits:
            hit["created_at_i"] = self.hits[-1]["created_at_i"]
        hit["_tags"].append(f"story_{hit['objectID']}")
        hit.update(
            {
                "title": title,
                "url": url,
                "points": points,
                "num_comments": comments,
                "story_id": int(hit["objectID"]),
                "story_text": text,  # null unless Ask HN and the like
                "children": [],
            }
        )
        self.hits.append(hit)
        return hit

    def add_comment(self, story, text, *, author="dang"):
        hit = self._base(author, "comment", (f"story_{story['objectID']}",))
        hit.update(
            {
                "comment_text": text,
                "story_id": int(story["objectID"]),
                "story_title": story["title"],
                "story_url": story.get("url"),
                "parent_id": int(story["objectID"]),
                "title": None,
                "url": None,
                "story_text": None,
                "points": None,
                "num_comments": None,
            }
        )
        self.hits.append(hit)
        return hit

    @staticmethod
    def tag_match(hit, tags):
        """Algolia tags: comma-separated terms are ANDed; a parenthesised group is ORed."""
        for term in re.findall(r"\([^)]*\)|[^,]+", tags or ""):
            options = term.strip("()").split(",")
            if not any(option.strip() in hit["_tags"] for option in options if option.strip()):
                return False
        return True

    def search_by_date(self, request):
        found = list(self.hits)
        query = (request.args.get("query") or "").lower()
        if query:
            found = [
                hit
                for hit in found
                if all(
                    word
                    in " ".join(
                        str(hit.get(key) or "")
                        for key in ("title", "story_title", "comment_text", "story_text", "url")
                    ).lower()
                    for word in query.split()
                )
            ]
        found = [hit for hit in found if self.tag_match(hit, request.args.get("tags"))]
        for expression in filter(None, (request.args.get("numericFilters") or "").split(",")):
            match = FILTER.match(expression.strip())
            if not match:
                return self.error(400, f"invalid numeric filter: {expression}")
            name, operator, limit = match.group(1), match.group(2), int(match.group(3))
            compare = {
                ">": int.__gt__,
                ">=": int.__ge__,
                "<": int.__lt__,
                "<=": int.__le__,
                "=": int.__eq__,
            }[operator]
            found = [hit for hit in found if compare(number(hit.get(name)), limit)]
        found.sort(
            key=lambda hit: (number(hit.get("created_at_i")), int(hit["objectID"])), reverse=True
        )
        found = found[:MAX_HITS]
        try:
            per_page = min(max(int(request.args.get("hitsPerPage", 20)), 1), 1000)
            page = max(int(request.args.get("page", 0)), 0)
        except ValueError:
            return self.error(400, "invalid hitsPerPage or page")
        pages = (len(found) + per_page - 1) // per_page
        return self.json(
            {
                "hits": found[page * per_page : (page + 1) * per_page],
                "nbHits": len(found),
                "page": page,
                "nbPages": pages,
                "hitsPerPage": per_page,
                "exhaustiveNbHits": True,
                "query": request.args.get("query", ""),
                "params": request.query_string.decode(),
                "processingTimeMS": 1,
            }
        )
