"""Meta's Graph APIs (Facebook Pages, Instagram, Threads) answer errors the same way:

    {"error": {"message": "…", "type": "OAuthException", "code": 190,
               "error_subcode": 463, "fbtrace_id": "…"}}

`graph_error()` maps such an answer to the publisher's taxonomy (docs/networks.md §4, §5,
§7), and `usage_retry_after()` reads how long Meta asks us to wait from its usage headers.
An error Meta flags `is_transient` is retried later whatever its code (its documented
advice), a failed image download (9004/2207052) is retried later with a message pointing at
Tribu's public address, and Instagram's 24-hour publishing limit (2207042) waits at least an
hour, since Meta does not say when its rolling window frees a slot.
"""

import json
import math

from django.utils.translation import gettext as _

from tribu.channels.networks.base import ErrorKind, PublishError
from tribu.channels.networks.http import body_excerpt
from tribu.listening.fetch.http import parse_retry_after

# A dead, expired or revoked token (code 190 and its subcodes; 102 is an old session error).
REAUTH_CODES = {102, 190}
REAUTH_SUBCODES = {33, 458, 459, 460, 463, 464, 467, 492}
# Throttling: app (4), user (17), page (32), custom (613), business use case (80001–80014).
THROTTLE_CODES = {4, 17, 32, 613} | set(range(80001, 80015))
THROTTLE_SUBCODES = {1390008, 2207042}  # posting too fast; Instagram's publishing limit
# Temporary problems on Meta's side.
TRANSIENT_CODES = {1, 2, 341}
# Instagram media not ready yet (9007/2207027), a container still in progress.
NOT_READY_SUBCODES = {2207027, 2207055}
# Meta could not download an image from Tribu (9004/2207052, Threads words it "The media
# could not be fetched from this URI"). Often transient on Meta's side (Mixpost #197; Postiz
# retries it since PR #1900), but also what a Tribu unreachable from the internet gets: the
# message says both.
MEDIA_FETCH_CODES = {9004}
MEDIA_FETCH_SUBCODES = {2207052}
# Instagram's publishing limit (posts per rolling 24 hours): nothing frees before the oldest
# post of the window leaves it, and Meta does not say when that is.
PUBLISH_LIMIT_SUBCODES = {2207042}
PUBLISH_LIMIT_SECONDS = 3600
# Missing permission (10, 200–299), a page needing Page Publishing Authorization
# (1404078), an account restricted (2207051, 4279013), blocked content (368).
FATAL_CODES = {10, 368} | set(range(200, 300))
FATAL_SUBCODES = {1404078, 2207051, 4279013}
# Duplicate post: the same text was just published (Facebook's 506, photos 1366051).
DUPLICATE_CODES = {506}
DUPLICATE_SUBCODES = {1366051}
# What to wait when Meta throttles without saying how long.
DEFAULT_THROTTLE_SECONDS = 300


def error_fields(result):
    """(code, subcode, message, type) of a Graph error answer; Nones when it is not one."""
    data = result.json()
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, None, body_excerpt(result), ""

    def number(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    message = str(error.get("error_user_msg") or error.get("message") or "")[:1000]
    return (
        number(error.get("code")),
        number(error.get("error_subcode")),
        message,
        str(error.get("type") or ""),
    )


def is_transient(result):
    """True when Meta flags the error `is_transient` (its advice: try the same call again)."""
    data = result.json()
    error = data.get("error") if isinstance(data, dict) else None
    return isinstance(error, dict) and error.get("is_transient") is True


def usage_retry_after(headers):
    """Seconds to wait: Retry-After, else the largest `estimated_time_to_regain_access`
    (minutes) in X-Business-Use-Case-Usage, else None."""
    seconds = parse_retry_after(headers.get("retry-after"))
    if seconds is not None:
        return seconds
    raw = headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = []
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                value = (
                    entry.get("estimated_time_to_regain_access")
                    if isinstance(entry, dict)
                    else None
                )
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    minutes.append(value)
    if not minutes or max(minutes) <= 0:
        return None
    return math.ceil(max(minutes) * 60)


def graph_error(result, service, label):
    """The PublishError a Graph API error answer maps to. `service` names the network in
    messages ("Instagram")."""
    status = result.status
    code, subcode, detail, error_type = error_fields(result)
    values = {"service": service, "status": status, "detail": detail or _("no details")}

    def error(kind, stable_code, message, **extra):
        return PublishError(
            kind,
            stable_code,
            message % values,
            status=status,
            detail=f"{code}/{subcode}: {detail}" if code is not None else detail,
            request=label,
            **extra,
        )

    # Subcode 33 with code 100 is "the object does not exist" (GraphMethodException), not a
    # dead session: only with another code (Instagram's session errors) does it mean reauth.
    dead_subcode = subcode in REAUTH_SUBCODES and not (subcode == 33 and code == 100)
    if code in REAUTH_CODES or dead_subcode or status == 401:
        return error(
            ErrorKind.REAUTH,
            "token_invalid",
            _(
                "%(service)s refused Tribu's access: the authorization expired or was "
                "withdrawn (password changed, app removed, role lost). Reconnect the channel; "
                "its posts are held until then."
            ),
        )
    if subcode in PUBLISH_LIMIT_SUBCODES:
        seconds = max(usage_retry_after(result.headers) or 0, PUBLISH_LIMIT_SECONDS)
        values["minutes"] = max(1, math.ceil(seconds / 60))
        return error(
            ErrorKind.RETRY_LATER,
            "publishing_limit",
            _(
                "%(service)s's limit of posts published by apps in 24 hours is reached for "
                "this account. Tribu will try again in about %(minutes)s minutes; to publish "
                "sooner, publish fewer posts on this account today."
            ),
            retry_after=seconds,
        )
    if code in THROTTLE_CODES or subcode in THROTTLE_SUBCODES or status == 429:
        seconds = usage_retry_after(result.headers) or DEFAULT_THROTTLE_SECONDS
        values["minutes"] = max(1, math.ceil(seconds / 60))
        return error(
            ErrorKind.RETRY_LATER,
            "rate_limited",
            _(
                "%(service)s asked Tribu to slow down (its usage limit is reached). Tribu will "
                "try again in about %(minutes)s minutes."
            ),
            retry_after=seconds,
        )
    if subcode in MEDIA_FETCH_SUBCODES or (code in MEDIA_FETCH_CODES and subcode is None):
        return error(
            ErrorKind.RETRY_LATER,
            "media_fetch_failed",
            _(
                "%(service)s could not download the images of this post from Tribu "
                "(%(detail)s). This is often a passing problem on %(service)s's side, and Tribu "
                "will try again in a few minutes; if it keeps failing, check that Tribu's "
                "address (TRIBU_BASE_URL) can be reached from the internet."
            ),
            retry_after=120,
        )
    if subcode in NOT_READY_SUBCODES or code == 9007:
        return error(
            ErrorKind.RETRY_LATER,
            "media_processing",
            _(
                "%(service)s has not finished processing the images of this post "
                "(%(detail)s). Tribu will try again in a moment."
            ),
            retry_after=30,
        )
    if code in DUPLICATE_CODES or subcode in DUPLICATE_SUBCODES:
        return error(
            ErrorKind.UNKNOWN,
            "duplicate",
            _(
                "%(service)s refused the post as a duplicate of one just published, so it is "
                "most likely online already. Tribu looks for it before doing anything else."
            ),
        )
    if code in FATAL_CODES or subcode in FATAL_SUBCODES or status == 403:
        return error(
            ErrorKind.FATAL,
            "forbidden",
            _(
                "%(service)s does not let this account publish (%(detail)s). Check the "
                "account's role and the permissions granted to Tribu, then reconnect the "
                "channel. Tribu will not retry."
            ),
        )
    if code in TRANSIENT_CODES or status >= 500 or is_transient(result):
        return error(
            ErrorKind.RETRY_LATER,
            "server_error",
            _(
                "%(service)s had a problem on its side (HTTP %(status)s: %(detail)s). Tribu "
                "will try again later."
            ),
            retry_after=usage_retry_after(result.headers),
        )
    if status in (400, 413, 422) or code == 100:
        return error(
            ErrorKind.FIX_CONTENT,
            "rejected",
            _(
                "%(service)s refused the post: %(detail)s. Edit the post to fix it, then "
                "publish it again."
            ),
        )
    if status == 404:
        return error(
            ErrorKind.FATAL,
            "not_found",
            _(
                "%(service)s answered that what Tribu asked for does not exist (%(detail)s). "
                "The account may have been removed: reconnect the channel."
            ),
        )
    return error(
        ErrorKind.FATAL,
        "unexpected_status",
        _(
            "%(service)s gave an answer Tribu does not understand (HTTP %(status)s: "
            "%(detail)s). Check the channel's API address."
        ),
    )


def bad_answer(result, service, label, *, creates_post=False):
    """A 200 whose body is not what the Graph API sends."""
    if creates_post:
        return PublishError(
            ErrorKind.UNKNOWN,
            "bad_answer",
            _(
                "%(service)s accepted the post but its answer could not be read, so the post "
                "may already be published. Tribu will check before publishing again."
            )
            % {"service": service},
            status=result.status,
            detail=body_excerpt(result),
            request=label,
        )
    return PublishError(
        ErrorKind.RETRY_LATER,
        "bad_answer",
        _(
            "%(service)s answered with something Tribu cannot read. Tribu will try again "
            "later; if it persists, check the channel's API address."
        )
        % {"service": service},
        status=result.status,
        detail=body_excerpt(result),
        request=label,
    )
