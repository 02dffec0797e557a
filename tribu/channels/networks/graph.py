"""Meta's Graph APIs (Facebook Pages, Instagram, Threads) answer errors the same way:

    {"error": {"message": "…", "type": "OAuthException", "code": 190,
               "error_subcode": 463, "fbtrace_id": "…"}}

`graph_error()` maps such an answer to the publisher's taxonomy (docs/networks.md §4, §5,
§7), and `usage_retry_after()` reads how long Meta asks us to wait from its usage headers.
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
# Instagram media not ready yet (9007/2207027), a media download Meta says failed (often
# transient on its side: Postiz retries 2207052), a container still in progress.
NOT_READY_SUBCODES = {2207027, 2207052, 2207055}
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

    if code in REAUTH_CODES or subcode in REAUTH_SUBCODES or status == 401:
        return error(
            ErrorKind.REAUTH,
            "token_invalid",
            _(
                "%(service)s refused Tribu's access: the authorization expired or was "
                "withdrawn (password changed, app removed, role lost). Reconnect the channel; "
                "its posts are held until then."
            ),
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
    if code in TRANSIENT_CODES or status >= 500:
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
