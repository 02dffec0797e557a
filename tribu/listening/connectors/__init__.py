"""Read connectors for listening: one module per network, each with
`poll(config, state) -> PollResult`. `poll(kind, config, state)` dispatches by kind.

Errors are `FetchError`s whose message is translated and says what to do; their `code` is
stable: "invalid_config" (the source's settings), "auth" (a token is needed, expired or
lacks a scope), "not_found" (unknown hashtag, account, subreddit, or a wrong base URL),
"bad_request", "bad_response" (not the expected JSON), plus fetch's own codes
("rate_limited" with `retry_after`, "http_error" for 5xx, "timeout", "too_large", ...).
"""

from django.utils.translation import gettext as _

from tribu.listening.connectors import bluesky, hackernews, mastodon, reddit
from tribu.listening.connectors.base import PollResult
from tribu.listening.fetch.http import FetchError
from tribu.listening.items import scrub_items

CONNECTORS = {
    "mastodon": mastodon,
    "bluesky": bluesky,
    "reddit": reddit,
    "hackernews": hackernews,
}

__all__ = ["CONNECTORS", "PollResult", "poll"]


def poll(kind, config, state):
    connector = CONNECTORS.get(kind)
    if connector is None:
        raise FetchError(
            "invalid_config",
            _("Tribu has no connector for “%(kind)s”. Choose one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(sorted(CONNECTORS))},
        )
    result = connector.poll(dict(config or {}), dict(state or {}))
    scrub_items(result.items)
    return result
