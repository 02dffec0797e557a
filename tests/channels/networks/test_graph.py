"""Meta's Graph error mapping (tribu/channels/networks/graph.py), shared by Facebook,
Instagram and Threads."""

import json

import pytest

from tribu.channels.networks import graph
from tribu.listening.fetch.http import SendResult


def answer(status, error=None, *, headers=None, body=None):
    if body is None:
        body = json.dumps({"error": error}).encode() if error is not None else b""
    return SendResult(
        status=status,
        url="https://graph.facebook.com/v24.0/1/feed",
        headers={key.lower(): value for key, value in (headers or {}).items()},
        body=body,
    )


def meta_error(code, message="(#0) Something", subcode=None, **extra):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "A1"}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return error


def usage(minutes, kind="pages"):
    entry = {"type": kind, "call_count": 100, "estimated_time_to_regain_access": minutes}
    return {"X-Business-Use-Case-Usage": json.dumps({"101": [entry]})}


def test_error_fields_read_the_graph_shape_and_prefer_the_message_for_users():
    result = answer(400, meta_error(190, "Error validating access token", 463))
    assert graph.error_fields(result) == (
        190,
        463,
        "Error validating access token",
        "OAuthException",
    )
    friendly = answer(
        400, meta_error(100, "Invalid parameter", 2207009, error_user_msg="Use a 4:5 image.")
    )
    assert graph.error_fields(friendly)[2] == "Use a 4:5 image."
    # Strings for numbers (some proxies), and no error object at all.
    assert graph.error_fields(answer(400, {"code": "32", "error_subcode": "x"}))[:2] == (32, None)
    plain = answer(502, body=b"<html>Bad gateway</html>")
    assert graph.error_fields(plain) == (None, None, "<html>Bad gateway</html>", "")


def test_usage_retry_after_reads_retry_after_then_the_largest_regain_time():
    assert graph.usage_retry_after({"retry-after": "12"}) == 12
    headers = {
        "x-business-use-case-usage": json.dumps(
            {
                "101": [{"estimated_time_to_regain_access": 3}],
                "102": [{"estimated_time_to_regain_access": 7.5}, "junk"],
            }
        )
    }
    assert graph.usage_retry_after(headers) == 450
    assert graph.usage_retry_after({"x-business-use-case-usage": "{not json"}) is None
    zero = {
        "x-business-use-case-usage": json.dumps({"1": [{"estimated_time_to_regain_access": 0}]})
    }
    assert graph.usage_retry_after(zero) is None
    flag = {
        "x-business-use-case-usage": json.dumps({"1": [{"estimated_time_to_regain_access": True}]})
    }
    assert graph.usage_retry_after(flag) is None
    assert graph.usage_retry_after({}) is None


@pytest.mark.parametrize(
    ("status", "error", "headers", "kind", "code", "retry_after"),
    [
        # Dead tokens: expired, password changed, app removed, logged out; old session code.
        (400, meta_error(190, "Session has expired", 463), None, "reauth", "token_invalid", None),
        (400, meta_error(190, "Password changed", 460), None, "reauth", "token_invalid", None),
        (400, meta_error(190, "Not authorized", 458), None, "reauth", "token_invalid", None),
        (400, meta_error(102, "Session key invalid"), None, "reauth", "token_invalid", None),
        (401, None, None, "reauth", "token_invalid", None),
        # Throttling, with and without the usage header.
        (400, meta_error(32, "(#32) Page request limit reached"), usage(7), "retry_later",
         "rate_limited", 420),
        (400, meta_error(80001, "(#80001) Too many calls"), usage(2), "retry_later",
         "rate_limited", 120),
        (400, meta_error(4, "(#4) Application request limit reached"), None, "retry_later",
         "rate_limited", graph.DEFAULT_THROTTLE_SECONDS),
        (400, meta_error(368, "Posting too fast", 1390008), None, "retry_later", "rate_limited",
         graph.DEFAULT_THROTTLE_SECONDS),
        (429, None, {"Retry-After": "30"}, "retry_later", "rate_limited", 30),
        # Instagram's publishing limit waits at least an hour.
        (400, meta_error(9, "Application request limit reached", 2207042), usage(2),
         "retry_later", "publishing_limit", 3600),
        # Media not ready, media Meta could not download.
        (400, meta_error(9007, "Media ID is not available", 2207027), None, "retry_later",
         "media_processing", 30),
        (400, meta_error(9004, "Only photo or video can be accepted", 2207052), None,
         "retry_later", "media_fetch_failed", 120),
        (400, meta_error(9004, "Only photo or video can be accepted"), None, "retry_later",
         "media_fetch_failed", 120),
        # Duplicates: the post is most likely online already.
        (400, meta_error(506, "(#506) Duplicate status message"), None, "unknown", "duplicate",
         None),
        (400, meta_error(100, "These photos were already posted", 1366051), None, "unknown",
         "duplicate", None),
        # Permissions, restrictions: a person must act.
        (403, meta_error(200, "(#200) Permissions error"), None, "fatal", "forbidden", None),
        (403, meta_error(10, "(#10) Application does not have permission"), None, "fatal",
         "forbidden", None),
        (400, meta_error(100, "Publishing Authorization required", 1404078), None, "fatal",
         "forbidden", None),
        (400, meta_error(100, "Account restricted", 2207051), None, "fatal", "forbidden", None),
        (403, None, None, "fatal", "forbidden", None),
        # Meta's side.
        (500, meta_error(1, "An unknown error has occurred."), None, "retry_later",
         "server_error", None),
        (400, meta_error(2, "Service temporarily unavailable"), None, "retry_later",
         "server_error", None),
        (400, meta_error(100, "Something passing", is_transient=True), None, "retry_later",
         "server_error", None),
        (503, None, {"Retry-After": "60"}, "retry_later", "server_error", 60),
        # The content.
        (400, meta_error(100, "(#100) Param message must be at most 63206 characters"), None,
         "fix_content", "rejected", None),
        (400, meta_error(36003, "The aspect ratio is not supported", 2207009), None,
         "fix_content", "rejected", None),
        (413, None, None, "fix_content", "rejected", None),
        # What does not fit anything else.
        (404, None, None, "fatal", "not_found", None),
        (302, None, None, "fatal", "unexpected_status", None),
    ],
)  # fmt: skip
def test_graph_error_maps_meta_answers_to_the_taxonomy(
    status, error, headers, kind, code, retry_after
):
    mapped = graph.graph_error(answer(status, error, headers=headers), "Facebook", "POST /x")
    assert (mapped.kind, mapped.code, mapped.retry_after) == (kind, code, retry_after)
    assert mapped.status == status and mapped.request == "POST /x"
    assert "Facebook" in mapped.message
    assert "%(" not in mapped.message


def test_graph_error_detail_carries_meta_codes_and_words():
    mapped = graph.graph_error(
        answer(400, meta_error(100, "(#100) Param message is too long", 2207010)),
        "Instagram",
        "POST /v24.0/1/media",
    )
    assert mapped.detail == "100/2207010: (#100) Param message is too long"
    assert "(#100) Param message is too long" in mapped.message
    assert "Edit the post" in mapped.message


def test_throttle_message_gives_the_wait_in_minutes():
    mapped = graph.graph_error(
        answer(400, meta_error(80002, "Too many calls"), headers=usage(12, "instagram")),
        "Instagram",
        "GET /x",
    )
    assert mapped.retry_after == 720
    assert "12 minutes" in mapped.message


def test_a_media_fetch_failure_points_at_tribus_public_address():
    mapped = graph.graph_error(
        answer(
            400, meta_error(9004, "Only photo or video can be accepted as media type.", 2207052)
        ),
        "Instagram",
        "POST /x",
    )
    assert "TRIBU_BASE_URL" in mapped.message


def test_bad_answer_on_a_create_is_unknown_elsewhere_retried():
    result = answer(200, body=b'{"truncated": ')
    created = graph.bad_answer(result, "Facebook", "POST /v24.0/1/feed", creates_post=True)
    assert (created.kind, created.code, created.detail) == (
        "unknown",
        "bad_answer",
        '{"truncated":',
    )
    read = graph.bad_answer(result, "Facebook", "GET /v24.0/1")
    assert (read.kind, read.code, read.status) == ("retry_later", "bad_answer", 200)


def test_subcode_33_is_a_dead_session_unless_it_says_the_object_does_not_exist():
    gone = graph.graph_error(
        answer(400, meta_error(100, "Object does not exist", 33, type="GraphMethodException")),
        "Instagram",
        "GET /1",
    )
    assert gone.kind != "reauth"
    dead = graph.graph_error(answer(400, meta_error(2, "Session invalid", 33)), "Instagram", "x")
    assert dead.kind == "reauth"
