"""The X client against the X contract fake, over real HTTP on loopback."""

import io
import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
from PIL import Image

from tribu.channels.networks import client_class, http, x
from tribu.channels.networks.base import CannotTell, Content, NotFound, Published, PublishError
from tribu.listening.fetch.http import send
from tribu.testing.fakes.x import (
    CLIENT_ID,
    CLIENT_SECRET,
    DUPLICATE,
    REFRESH_TOKEN,
    TOKEN,
    USAGE_CAPPED,
    USER_ID,
    USERNAME,
    XFake,
)
from tribu.testing.publishing import Stages

REDIRECT = "https://tribu.example/channels/x/callback"
TWEETS = "/2/tweets"
UPLOAD = "/2/media/upload"
METADATA = "/2/media/metadata"
TOKEN_URL = "/2/oauth2/token"


@pytest.fixture
def fake():
    with XFake() as server:
        yield server


@pytest.fixture(autouse=True)
def x_app(settings, fake):
    """The operator's X app points at the fake (sign-in page and API), which listens on
    127.0.0.1: the SSRF guard must let it through."""
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
    settings.TRIBU_NETWORK_APPS = {
        "x": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_url": fake.base_url,
            "auth_url": fake.base_url,
        }
    }
    return http.app_for("x")


def client_for(fake, *, token=TOKEN, refresh_token=REFRESH_TOKEN, expires_at=None, timeout=5):
    secrets = {"access_token": token, "username": USERNAME}
    if refresh_token:
        secrets["refresh_token"] = refresh_token
    if expires_at is not None:
        secrets["token_expires_at"] = expires_at.isoformat()
    channel = SimpleNamespace(
        base_url=fake.base_url,
        account_id=USER_ID,
        handle=f"@{USERNAME}",
        name="Tribu",
        secret_values=secrets,
        limits={},
    )
    stored = []
    client = x.XClient(channel, on_secrets=stored.append, timeout=timeout)
    client.media_poll_cap = 0.01  # the fake processes in polls, not in seconds
    client.stored = stored
    return client


def publish(client, content, *, stage=None, stages=None):
    return client.publish(
        content, idempotency_key="key-1", stage=stage or {}, save_stage=stages or Stages()
    )


def png(color="red", size=(8, 6)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def images(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "posts").mkdir()
    media = []
    for name, color, alt in (("a.png", "red", "A red square"), ("b.png", "blue", "Un carré bleu")):
        data = png(color)
        (tmp_path / "posts" / name).write_bytes(data)
        media.append(
            {
                "path": f"posts/{name}",
                "alt": alt,
                "content_type": "image/png",
                "width": 8,
                "height": 6,
                "size": len(data),
            }
        )
    return media


def raises(callable_, *args, **kwargs):
    with pytest.raises(PublishError) as caught:
        callable_(*args, **kwargs)
    return caught.value


def sources(fake):
    return [tweet["source_text"] for tweet in fake.tweets]


# --- connect ---------------------------------------------------------------------------


def test_the_registry_names_this_client():
    assert client_class("x") is x.XClient
    assert (x.XClient.app_key, x.XClient.service_name, x.XClient.idempotent) == ("x", "X", False)


def test_connect_with_a_pasted_token_and_its_refresh_token(fake):
    expires = datetime.now(UTC) + timedelta(minutes=90)
    account = x.XClient.connect(
        fake.base_url,
        {"access_token": TOKEN, "refresh_token": REFRESH_TOKEN, "expires_at": expires.isoformat()},
    )
    assert (account.account_id, account.handle, account.name) == (USER_ID, "@tribu_fr", "Tribu")
    assert account.avatar_url == fake.user["profile_image_url"]
    assert account.account_kind == "profile"
    assert account.token_expires_at == expires
    assert account.consent_expires_at is None  # the refresh token renews it
    assert account.refresh_at is None  # the default: 15 minutes before expiry
    assert account.secrets == {
        "access_token": TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "token_expires_at": expires.isoformat(),
        "username": USERNAME,
    }
    [request] = fake.requests
    assert (request.path, request.args) == ("/2/users/me", {"user.fields": ["profile_image_url"]})
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_a_pasted_token_without_refresh_token_ends_within_two_hours(fake):
    before = datetime.now(UTC)
    account = x.XClient.connect(fake.base_url, {"access_token": TOKEN})
    assert before + timedelta(hours=2) <= account.token_expires_at
    assert account.token_expires_at <= datetime.now(UTC) + timedelta(hours=2)
    # Nothing can renew it: the team is told when the account must be connected again.
    assert account.consent_expires_at == account.token_expires_at
    assert "refresh_token" not in account.secrets


def test_connect_refuses_a_wrong_token_a_wrong_account_and_a_bad_date(fake):
    error = raises(x.XClient.connect, fake.base_url, {"access_token": "nope"})
    assert (error.kind, error.code, error.status) == ("reauth", "token_invalid", 401)
    assert error.detail == "Unauthorized"
    error = raises(x.XClient.connect, fake.base_url, {"access_token": TOKEN, "account_id": "42"})
    assert (error.kind, error.code) == ("fix_content", "choose_account")
    assert f"{USER_ID} (Tribu)" in error.message
    error = raises(x.XClient.connect, fake.base_url, {"access_token": TOKEN, "expires_at": "soon"})
    assert (error.kind, error.code) == ("fix_content", "invalid_expires_at")
    error = raises(x.XClient.connect, fake.base_url, {})
    assert error.code == "missing_credentials"


# --- OAuth -----------------------------------------------------------------------------


def authorize(url):
    """The user approves on the fake's sign-in page, which redirects to our callback."""
    response = urllib3.request("GET", url, redirect=False)
    assert response.status == 302, response.data
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def sign_in(app, state="state-1"):
    verifier = http.new_code_verifier()
    url = x.XClient.authorization_url(app, REDIRECT, state, http.code_challenge(verifier))
    return authorize(url), verifier


def test_oauth_with_pkce_gives_one_complete_account(fake, x_app):
    verifier = http.new_code_verifier()
    url = x.XClient.authorization_url(x_app, REDIRECT, "state-123", http.code_challenge(verifier))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == fake.url("/i/oauth2/authorize")
    query = parse_qs(parts.query)
    assert query == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": [REDIRECT],
        "scope": ["tweet.read tweet.write users.read media.write offline.access"],
        "state": ["state-123"],
        "code_challenge": [http.code_challenge(verifier)],
        "code_challenge_method": ["S256"],
    }
    assert "%20" in parts.query and "+" not in parts.query
    answer = authorize(url)
    assert answer["state"] == "state-123"

    grant = x.XClient.exchange_code(x_app, REDIRECT, answer["code"], verifier)
    [request] = fake.requests_to(TOKEN_URL)
    assert request.headers["authorization"] == http.basic_auth(CLIENT_ID, CLIENT_SECRET)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body.decode()) == {
        "grant_type": ["authorization_code"],
        "code": [answer["code"]],
        "redirect_uri": [REDIRECT],
        "code_verifier": [verifier],
        "client_id": [CLIENT_ID],
    }
    assert set(grant) == {"access_token", "refresh_token", "expires_at", "scope"}
    expires = datetime.fromisoformat(grant["expires_at"])
    assert timedelta(minutes=119) < expires - datetime.now(UTC) <= timedelta(hours=2)

    [account] = x.XClient.accounts(x_app, grant)
    assert (account.account_id, account.handle) == (USER_ID, "@tribu_fr")
    assert account.token_expires_at == expires
    assert account.secrets == {
        "access_token": grant["access_token"],
        "refresh_token": grant["refresh_token"],
        "token_expires_at": grant["expires_at"],
        "username": USERNAME,
    }
    # The new token publishes.
    client = client_for(fake, token=grant["access_token"], refresh_token=grant["refresh_token"])
    assert publish(client, Content(text="Via OAuth")).remote_id == fake.tweets[0]["id"]


def test_oauth_refuses_a_wrong_verifier_a_reused_code_and_a_late_code(fake, x_app):
    answer, verifier = sign_in(x_app)
    error = raises(
        x.XClient.exchange_code, x_app, REDIRECT, answer["code"], http.new_code_verifier()
    )
    assert (error.kind, error.code, error.status) == ("reauth", "invalid_grant", 400)
    assert "authorization code was invalid" in error.detail
    # A code works once, even after a wrong verifier.
    error = raises(x.XClient.exchange_code, x_app, REDIRECT, answer["code"], verifier)
    assert error.code == "invalid_grant"

    answer, verifier = sign_in(x_app)
    fake.advance(31)  # X's codes must be exchanged within 30 seconds
    assert raises(x.XClient.exchange_code, x_app, REDIRECT, answer["code"], verifier).status == 400

    answer, verifier = sign_in(x_app)
    other = "https://tribu.example/elsewhere"
    assert raises(x.XClient.exchange_code, x_app, other, answer["code"], verifier).status == 400


def test_oauth_with_wrong_app_credentials_tells_the_operator(fake, x_app):
    answer, verifier = sign_in(x_app)
    wrong = http.App("x", CLIENT_ID, "not-the-secret", fake.base_url, fake.base_url)
    error = raises(x.XClient.exchange_code, wrong, REDIRECT, answer["code"], verifier)
    assert (error.kind, error.code, error.status) == ("fatal", "app_credentials", 401)
    assert "TRIBU_X_CLIENT_SECRET" in error.message
    unconfigured = http.App("x", "", "", fake.base_url, fake.base_url)
    error = raises(x.XClient.exchange_code, unconfigured, REDIRECT, "c", "v")
    assert (error.code, error.sent) == ("app_missing", False)


def test_oauth_refuses_a_grant_that_cannot_publish(fake, x_app):
    fake.apps["public-client"] = ""  # a public client: no secret, client_id in the body
    app = http.App("x", "public-client", "", fake.base_url, fake.base_url)
    verifier = http.new_code_verifier()
    url = x.XClient.authorization_url(app, REDIRECT, "s", http.code_challenge(verifier))
    url = url.replace("tweet.write%20", "")
    code = authorize(url)["code"]
    error = raises(x.XClient.exchange_code, app, REDIRECT, code, verifier)
    assert (error.kind, error.code) == ("fatal", "scope_missing")
    assert "authorization" not in fake.requests_to(TOKEN_URL)[0].headers


def test_the_fake_sign_in_page_reports_a_refusal_and_bad_requests(fake, x_app):
    fake.deny_next = True
    verifier = http.new_code_verifier()
    url = x.XClient.authorization_url(x_app, REDIRECT, "s-9", http.code_challenge(verifier))
    assert authorize(url) == {"error": "access_denied", "state": "s-9"}
    no_pkce = url.replace("code_challenge_method=S256", "code_challenge_method=S512")
    assert authorize(no_pkce)["error"] == "invalid_request"
    unknown = url.replace(CLIENT_ID, "someone-else")
    assert urllib3.request("GET", unknown, redirect=False).status == 400


# --- refresh ---------------------------------------------------------------------------


def test_refresh_rotates_both_tokens_and_kills_the_old_refresh_token(fake):
    client = client_for(fake)
    update = client.refresh()
    assert update.secrets["refresh_token"] != REFRESH_TOKEN
    assert update.secrets["access_token"] != TOKEN
    assert update.account_id == USER_ID and update.refresh_at is None
    assert timedelta(minutes=119) < update.token_expires_at - datetime.now(UTC)
    assert update.secrets["token_expires_at"] == update.token_expires_at.isoformat()
    # Both new tokens were handed over at once.
    assert client.stored == [update.secrets]
    [request] = fake.requests_to(TOKEN_URL)
    assert parse_qs(request.body.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH_TOKEN],
        "client_id": [CLIENT_ID],
    }
    assert request.headers["authorization"] == http.basic_auth(CLIENT_ID, CLIENT_SECRET)
    # The old refresh token is dead: a second refresh with it is refused, reconnect.
    error = raises(client_for(fake).refresh)
    assert (error.kind, error.code, error.status) == ("reauth", "refresh_invalid", 400)
    assert "Reconnect the channel" in error.message
    assert error.detail == "Value passed for the token was invalid."
    # The new one works.
    newer = client.refresh()
    assert newer.secrets["refresh_token"] not in (REFRESH_TOKEN, update.secrets["refresh_token"])


def test_refresh_without_refresh_token_or_app(fake, settings):
    assert client_for(fake, refresh_token=None).refresh() is None
    settings.TRIBU_NETWORK_APPS = {}
    error = raises(client_for(fake).refresh)
    assert (error.kind, error.code) == ("reauth", "app_missing")
    assert fake.requests == []


def test_an_expired_token_is_refreshed_before_publishing(fake):
    fake.expire_access_tokens()
    client = client_for(fake, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    published = publish(client, Content(text="Fresh token"))
    assert [label for label, _status, _ms in published.requests] == [
        "POST /2/oauth2/token",
        "POST /2/tweets",
    ]
    [stored] = client.stored
    assert (
        fake.requests_to(TWEETS)[0].headers["authorization"] == f"Bearer {stored['access_token']}"
    )
    assert sources(fake) == ["Fresh token"]


def test_a_401_mid_publish_refreshes_once_and_sends_again(fake):
    fake.expire_access_tokens()  # the stored expiry did not say so
    client = client_for(fake, expires_at=datetime.now(UTC) + timedelta(hours=1))
    published = publish(client, Content(text="Second try"))
    assert [(label, status) for label, status, _ms in published.requests] == [
        ("POST /2/tweets", 401),
        ("POST /2/oauth2/token", 200),
        ("POST /2/tweets", 201),
    ]
    assert sources(fake) == ["Second try"] and len(client.stored) == 1


def test_a_revoked_token_without_refresh_needs_reconnecting(fake):
    fake.revoke(TOKEN)
    error = raises(publish, client_for(fake, refresh_token=None), Content(text="x"))
    assert (error.kind, error.code, error.status) == ("reauth", "token_invalid", 401)
    assert "Reconnect the channel" in error.message
    assert [label for label, _status, _ms in error.requests] == ["POST /2/tweets"]


def test_a_dead_refresh_token_mid_publish_needs_reconnecting(fake):
    fake.revoke(TOKEN)
    fake.refresh_tokens.clear()
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code) == ("reauth", "refresh_invalid")
    assert fake.tweets == []


# --- publish ---------------------------------------------------------------------------


def test_publish_text(fake):
    stages = Stages()
    published = publish(
        client_for(fake), Content(text="Bonjour la tribu", language="fr"), stages=stages
    )
    [tweet] = fake.tweets
    assert isinstance(published, Published)
    assert published.remote_id == tweet["id"]
    assert published.url == f"https://x.com/tribu_fr/status/{tweet['id']}"
    assert [(label, status) for label, status, _ms in published.requests] == [
        ("POST /2/tweets", 201)
    ]
    [request] = fake.requests_to(TWEETS)
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"text": "Bonjour la tribu"}
    assert stages.saved == []  # one part: the delivery records the outcome itself


def test_publish_with_images_and_alt_text(fake, images):
    stages = Stages()
    published = publish(client_for(fake), Content(text="Deux carrés", media=images), stages=stages)

    uploads = fake.requests_to(UPLOAD, "POST")
    assert len(uploads) == 2
    for upload in uploads:
        assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
        assert b'name="media_category"\r\n\r\ntweet_image' in upload.body
        assert b'name="media"; filename="' in upload.body
    media_ids = list(fake.media)
    assert [fake.media[media_id]["alt"] for media_id in media_ids] == [
        "A red square",
        "Un carré bleu",
    ]
    assert [fake.media[media_id]["filename"] for media_id in media_ids] == ["a.png", "b.png"]
    assert [json.loads(r.body) for r in fake.requests_to(METADATA)] == [
        {"id": media_ids[0], "metadata": {"alt_text": {"text": "A red square"}}},
        {"id": media_ids[1], "metadata": {"alt_text": {"text": "Un carré bleu"}}},
    ]
    [tweet] = fake.tweets
    assert tweet["media_ids"] == media_ids
    assert json.loads(fake.requests_to(TWEETS)[0].body) == {
        "text": "Deux carrés",
        "media": {"media_ids": media_ids},
    }
    # Each media id was saved before the next call, with its upload time and lifetime.
    assert [[entry["id"] for entry in stage["media"]] for stage in stages.saved] == [
        media_ids[:1],
        media_ids[:1],
        media_ids,
        media_ids,
    ]
    entry = stages.last["media"][0]
    assert entry["expires_after_secs"] == 86400 and entry["ready"] and entry["alt"]
    assert abs(entry["uploaded_at"] - time.time()) < 60
    assert [label for label, _status, _ms in published.requests] == [
        "POST /2/media/upload",
        "POST /2/media/metadata",
        "POST /2/media/upload",
        "POST /2/media/metadata",
        "POST /2/tweets",
    ]


def test_an_image_still_processing_is_polled_as_x_asks(fake, images):
    fake.processing_polls = 2
    client = client_for(fake)
    published = publish(client, Content(text="Later", media=images[:1]))
    [media_id] = fake.media
    polls = fake.requests_to(UPLOAD, "GET")
    assert [(p.arg("command"), p.arg("media_id")) for p in polls] == [("STATUS", media_id)] * 3
    assert fake.tweets[0]["media_ids"] == [media_id]
    assert [label for label, _s, _ms in published.requests].count("GET /2/media/upload") == 3


def test_processing_too_long_is_retried_without_uploading_again(fake, images):
    fake.processing_polls = 50
    client = client_for(fake)
    client.media_poll_limit = 3
    stages = Stages()
    content = Content(text="Slow image", media=images[:1])
    error = raises(publish, client, content, stages=stages)
    assert (error.kind, error.code) == ("retry_later", "media_processing")
    [media_id] = fake.media
    assert stages.last["media"][0]["id"] == media_id and not stages.last["media"][0]["ready"]
    fake.media[media_id]["polls_left"] = 0
    publish(client, content, stage=stages.last, stages=stages)
    assert len(fake.requests_to(UPLOAD, "POST")) == 1
    assert fake.tweets[0]["media_ids"] == [media_id]
    assert fake.media[media_id]["alt"] == "A red square"


def test_processing_that_fails_needs_a_new_image(fake, images):
    fake.processing_polls = 1
    fake.processing_fails = True
    error = raises(publish, client_for(fake), Content(text="Broken", media=images[:1]))
    assert (error.kind, error.code) == ("fix_content", "media_failed")
    assert "Unsupported image format" in error.message
    assert fake.tweets == []


def test_too_many_images_or_a_missing_file_send_nothing(fake, images, tmp_path):
    error = raises(publish, client_for(fake), Content(text="x", media=images * 3))
    assert (error.kind, error.code, error.sent) == ("fix_content", "too_many_images", False)
    (tmp_path / images[0]["path"]).unlink()
    error = raises(publish, client_for(fake), Content(text="x", media=images[:1]))
    assert (error.kind, error.code, error.sent) == ("fix_content", "media_missing", False)
    assert fake.requests == []


def test_an_image_x_refuses_needs_a_fix(fake, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "fake.png").write_bytes(b"not an image at all")
    media = [{"path": "fake.png", "alt": "", "content_type": "image/png"}]
    error = raises(publish, client_for(fake), Content(text="x", media=media))
    assert (error.kind, error.code, error.status) == ("fix_content", "media_rejected", 400)
    assert error.detail == "Unsupported media type or invalid media file"


def test_an_overlong_alt_text_needs_a_fix(fake, images):
    images[0]["alt"] = "é" * 1001
    error = raises(publish, client_for(fake), Content(text="x", media=images[:1]))
    assert (error.kind, error.code) == ("fix_content", "alt_text_too_long")


def test_a_thread_chains_replies_and_saves_each_part(fake):
    stages = Stages()
    content = Content(text="1/3 Début", thread=["2/3 Milieu", "", "3/3 Fin"])
    published = publish(client_for(fake), content, stages=stages)
    first, second, third = fake.tweets
    assert published.remote_id == first["id"]
    assert (first["in_reply_to"], second["in_reply_to"], third["in_reply_to"]) == (
        None,
        first["id"],
        second["id"],
    )
    assert [json.loads(r.body).get("reply") for r in fake.requests_to(TWEETS)] == [
        None,
        {"in_reply_to_tweet_id": first["id"]},
        {"in_reply_to_tweet_id": second["id"]},
    ]
    assert [stage["tweet_ids"] for stage in stages.saved] == [
        [first["id"]],
        [first["id"], second["id"]],
    ]


def test_a_thread_resumes_after_the_last_published_part(fake, images):
    client = client_for(fake)
    stages = Stages()
    content = Content(text="1/3", thread=["2/3", "3/3"], media=images)
    fake.pass_through(path=TWEETS)
    fake.fail(503, path=TWEETS)
    error = raises(publish, client, content, stages=stages)
    assert (error.kind, error.code, error.status) == ("retry_later", "server_error", 503)
    [first] = fake.tweets
    assert stages.last["tweet_ids"] == [first["id"]]

    published = publish(client, content, stage=stages.last, stages=stages)
    assert published.remote_id == first["id"]
    assert [json.loads(r.body)["text"] for r in fake.requests_to(TWEETS)] == [
        "1/3",
        "2/3",
        "2/3",
        "3/3",
    ]
    assert sources(fake) == ["1/3", "2/3", "3/3"]
    assert len(fake.requests_to(UPLOAD, "POST")) == 2  # the images were not uploaded again
    assert fake.duplicates() == []


def test_a_resumed_attempt_reuses_fresh_media_and_uploads_expired_media_again(fake, images):
    client = client_for(fake)
    stages = Stages()
    content = Content(text="Images d'hier", media=images)
    fake.fail(500, path=TWEETS)
    raises(publish, client, content, stages=stages)
    first_ids = [entry["id"] for entry in stages.last["media"]]

    # Fresh: reused as they are.
    fake.fail(500, path=TWEETS)
    raises(publish, client, content, stage=stages.last, stages=stages)
    assert len(fake.requests_to(UPLOAD, "POST")) == 2
    assert len(fake.requests_to(METADATA)) == 2

    # A day later X has forgotten them: uploaded again before posting.
    stage = stages.last
    for entry in stage["media"]:
        entry["uploaded_at"] -= 86400
    fake.advance(86400)
    publish(client, content, stage=stage, stages=stages)
    [tweet] = fake.tweets
    assert len(fake.media) == 4  # (the access token had expired too: refreshed on the way)
    assert tweet["media_ids"] != first_ids and len(tweet["media_ids"]) == 2
    assert [fake.media[m]["alt"] for m in tweet["media_ids"]] == ["A red square", "Un carré bleu"]


def test_media_ids_refused_after_a_resume_are_uploaded_again_once(fake, images):
    client = client_for(fake)
    stages = Stages()
    content = Content(text="Expired sooner", media=images[:1])
    fake.fail(500, path=TWEETS)
    raises(publish, client, content, stages=stages)
    fake.media_ttl = 10  # X forgot them sooner than it said
    fake.advance(60)
    published = publish(client, content, stage=stages.last, stages=stages)
    [tweet] = fake.tweets
    assert published.remote_id == tweet["id"]
    assert [(label, status) for label, status, _ms in published.requests][:2] == [
        ("POST /2/tweets", 400),
        ("POST /2/media/upload", 200),
    ]


# --- errors ----------------------------------------------------------------------------


def test_rate_limit_waits_until_x_rate_limit_reset(fake):
    reset = int(time.time()) + 120
    fake.fail(429, path=TWEETS, headers={"x-rate-limit-reset": str(reset)})
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code, error.status) == ("retry_later", "rate_limited", 429)
    assert 115 <= error.retry_after <= 121
    assert "2 minute" in error.message
    assert fake.tweets == []


def test_rate_limit_prefers_retry_after_and_reads_the_fakes_own_window(fake):
    fake.fail(429, path=TWEETS, retry_after="30")
    assert raises(publish, client_for(fake), Content(text="x")).retry_after == 30
    fake.rate_limits["create_tweet"] = 2  # the refused request counted too
    publish(client_for(fake), Content(text="first"))
    error = raises(publish, client_for(fake), Content(text="second"))
    assert error.code == "rate_limited" and 850 <= error.retry_after <= 900
    assert x.retry_after_seconds({"x-rate-limit-reset": "1000"}, now=990) == 10
    assert x.retry_after_seconds({"x-rate-limit-reset": "soon"}) is None
    assert x.retry_after_seconds({}) is None


def test_every_answer_carries_rate_limit_headers(fake):
    for _number in range(2):
        result = send("GET", fake.url("/2/users/me"), headers={"Authorization": f"Bearer {TOKEN}"})
        assert result.status == 200
    assert result.headers["x-rate-limit-limit"] == "75"
    assert result.headers["x-rate-limit-remaining"] == "73"
    assert 0 < int(result.headers["x-rate-limit-reset"]) - time.time() <= 900
    refused = send("GET", fake.url("/2/users/me"))
    assert refused.status == 401 and "x-rate-limit-reset" in refused.headers
    assert refused.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }


def test_usage_cap_is_fatal_and_says_who_must_act(fake):
    fake.cap_usage()
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code, error.status) == ("fatal", "usage_capped", 429)
    assert "credits" in error.message and "developer console" in error.message
    body = send("POST", fake.url(TWEETS), headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert body["type"] == USAGE_CAPPED and body["title"] == "UsageCapExceeded"


def test_server_errors_are_retried_later(fake):
    fake.fail(500, path=TWEETS)
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code, error.status) == ("retry_later", "server_error", 500)


def test_a_text_over_280_weighted_characters_needs_a_fix(fake):
    # 141 Chinese characters weigh 282; the same count of Latin letters fits.
    error = raises(publish, client_for(fake), Content(text="中" * 141))
    assert (error.kind, error.code, error.status) == ("fix_content", "too_long", 403)
    assert error.detail == "You are not permitted to perform this action."
    publish(client_for(fake), Content(text="a" * 141 + " https://example.com/" + "p" * 200))
    assert len(fake.tweets) == 1  # a URL weighs 23, whatever its length


def test_a_read_only_app_is_fatal_and_explains_the_permission(fake):
    fake.read_only_app = True
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code, error.status) == ("fatal", "app_permissions", 403)
    assert "“Read and write”" in error.message


def test_a_token_without_write_scope_is_fatal(fake):
    fake.add_token("read-only", scopes="tweet.read users.read")
    error = raises(publish, client_for(fake, token="read-only"), Content(text="short"))
    assert (error.kind, error.code, error.status) == ("fatal", "forbidden", 403)
    assert "Read and write" in error.message


def test_a_suspended_account_is_fatal(fake):
    fake.suspend()
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code) == ("fatal", "account_restricted")


def test_an_invalid_request_needs_a_fix_with_xs_words(fake):
    fake.respond_raw(
        json.dumps(
            {
                "errors": [{"parameters": {"text": ["x"]}, "message": "Text is invalid"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            }
        ).encode(),
        status=400,
        path=TWEETS,
    )
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code, error.detail) == ("fix_content", "rejected", "Text is invalid")
    assert "Text is invalid" in error.message


def test_duplicate_content_is_unknown_and_find_settles_it(fake):
    since = datetime.now(UTC)
    client = client_for(fake)
    publish(client, Content(text="Une seule fois"))
    stages = Stages()
    error = raises(publish, client, Content(text="Une seule fois"), stages=stages)
    assert (error.kind, error.code, error.status) == ("unknown", "duplicate", 403)
    assert error.detail == DUPLICATE
    assert stages.last["duplicate"]["part"] == 0
    assert fake.refused_duplicates == 1 and len(fake.tweets) == 1
    found = client.find(Content(text="Une seule fois"), stage=stages.last, since=since)
    assert isinstance(found, Published) and found.remote_id == fake.tweets[0]["id"]


def test_a_duplicate_of_an_older_post_is_left_to_a_person(fake):
    client = client_for(fake)
    publish(client, Content(text="Bon lundi !"))
    fake.advance(3600)
    since = datetime.fromtimestamp(fake.now(), UTC)
    stages = Stages()
    raises(publish, client, Content(text="Bon lundi !"), stages=stages)
    told = client.find(Content(text="Bon lundi !"), stage=stages.last, since=since)
    assert isinstance(told, CannotTell)
    assert "published on X earlier" in told.reason
    # Without the refusal on record, nothing from this attempt is on X: publish again.
    assert isinstance(client.find(Content(text="Bon lundi !"), stage={}, since=since), NotFound)


def test_a_lost_answer_is_unknown_then_find_sees_the_post(fake):
    since = datetime.now(UTC)
    client = client_for(fake, timeout=0.3)
    fake.stall_after_processing(1.0, path=TWEETS)
    error = raises(publish, client, Content(text="Réponse perdue"))
    assert (error.kind, error.code, error.sent) == ("unknown", "no_answer", True)
    assert error.request == "POST /2/tweets"
    assert len(fake.posts_with_text("Réponse perdue")) == 1  # it did get through
    found = client_for(fake).find(Content(text="Réponse perdue"), stage={}, since=since)
    assert isinstance(found, Published)
    assert found.url == f"https://x.com/tribu_fr/status/{fake.tweets[0]['id']}"
    assert fake.stats() == {"posts": 1, "duplicates": [], "refused_duplicates": 0}


def test_a_dropped_connection_after_the_post_is_unknown(fake):
    fake.drop_after_processing(path=TWEETS)
    error = raises(publish, client_for(fake), Content(text="Dropped"))
    assert (error.kind, error.sent) == ("unknown", True)
    assert len(fake.tweets) == 1


def test_unreadable_answers(fake, images):
    fake.malformed(path=TWEETS)
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code) == ("unknown", "bad_answer")
    fake.malformed(path=UPLOAD)
    error = raises(publish, client_for(fake), Content(text="y", media=images[:1]))
    assert (error.kind, error.code) == ("retry_later", "bad_answer")
    fake.malformed(path="/2/users/me")
    error = raises(x.XClient.connect, fake.base_url, {"access_token": TOKEN})
    assert (error.kind, error.code) == ("retry_later", "bad_answer")
    fake.malformed(path=f"/2/users/{USER_ID}/tweets")
    error = raises(client_for(fake).find, Content(text="x"), stage={}, since=datetime.now(UTC))
    assert (error.kind, error.code) == ("retry_later", "bad_answer")


# --- find ------------------------------------------------------------------------------


def test_find_reads_one_page_from_the_attempt_and_compares_words(fake, images):
    since = datetime.now(UTC)
    client = client_for(fake)
    text = (
        "Notre guide : https://www.example.com/blog/2026/un-tres-long-article & <l'équipe> "
        "tribu.fr/veille"
    )
    publish(client, Content(text="Autre chose"))
    publish(client, Content(text=text, media=images))
    shown = fake.tweets[1]["text"]
    assert "&amp; &lt;l'équipe&gt;" in shown and "example.com" not in shown
    assert x.words(shown) == x.words(text)

    found = client.find(Content(text=text, media=images), stage={}, since=since)
    assert isinstance(found, Published) and found.remote_id == fake.tweets[1]["id"]
    [request] = [r for r in fake.requests if r.method == "GET"]
    assert request.path == f"/2/users/{USER_ID}/tweets"
    assert request.arg("max_results") == "10" and request.arg("exclude") == "retweets"
    start = datetime.fromisoformat(request.arg("start_time").replace("Z", "+00:00"))
    assert start <= since - timedelta(minutes=5) < start + timedelta(seconds=1)
    assert [status for _label, status, _ms in found.requests] == [200]
    # Other words, or another image count, are another post.
    assert isinstance(client.find(Content(text=text + " !!! non"), stage={}, since=since), NotFound)
    assert isinstance(client.find(Content(text=text), stage={}, since=since), NotFound)


def test_find_a_post_that_is_not_there(fake):
    since = datetime.now(UTC)
    client = client_for(fake)
    publish(client, Content(text="Something else"))
    found = client.find(Content(text="Not posted"), stage={}, since=since)
    assert isinstance(found, NotFound) and len(found.requests) == 1


def test_find_ignores_posts_before_the_attempt(fake):
    client = client_for(fake)
    publish(client, Content(text="Same words"))
    fake.advance(3600)
    since = datetime.fromtimestamp(fake.now(), UTC)
    assert isinstance(client.find(Content(text="Same words"), stage={}, since=since), NotFound)


def test_find_a_thread_from_the_stage_and_the_reply_chain(fake):
    since = datetime.now(UTC)
    client = client_for(fake)
    content = Content(text="Part one", thread=["Part two"])
    publish(client, content)
    first, second = fake.tweets

    found = client.find(content, stage={}, since=since)
    assert isinstance(found, Published) and found.remote_id == first["id"]
    # The stage's last id bounds the read: only newer posts come back.
    found = client.find(content, stage={"tweet_ids": [first["id"]]}, since=since)
    assert isinstance(found, Published) and found.remote_id == first["id"]
    assert fake.requests[-1].arg("since_id") == first["id"]
    assert fake.requests[-1].arg("start_time") is None
    everything = {"tweet_ids": [first["id"], second["id"]]}
    found = client.find(content, stage=everything, since=since)
    assert (found.remote_id, found.requests) == (first["id"], [])

    # A reply is not a first part, even with the same words.
    assert isinstance(client.find(Content(text="Part two"), stage={}, since=since), NotFound)
    # Some parts on X, not all: the reconciler would start over, so a person decides.
    longer = Content(text="Part one", thread=["Part two", "Part three"])
    told = client.find(longer, stage=everything, since=since)
    assert isinstance(told, CannotTell) and "2 of the 3 parts" in told.reason
    assert isinstance(client.find(longer, stage={}, since=since), CannotTell)


def test_find_says_so_when_one_page_does_not_reach_the_attempt(fake):
    since = datetime.now(UTC)
    client = client_for(fake)
    publish(client, Content(text="The old one"))
    for number in range(10):
        publish(client, Content(text=f"Newer {number}"))
    told = client.find(Content(text="The old one"), stage={}, since=since)
    assert isinstance(told, CannotTell) and "latest 10" in told.reason
    assert len([r for r in fake.requests if r.method == "GET"]) == 1  # one billed page


def test_find_matches_long_posts_by_their_full_text(fake):
    fake.max_characters = 25_000  # a Premium account
    since = datetime.now(UTC)
    client = client_for(fake)
    text = "Un long billet. " * 30
    publish(client, Content(text=text))
    assert fake.tweets[0]["text"].endswith("…")
    assert isinstance(client.find(Content(text=text), stage={}, since=since), Published)


def test_find_raises_when_the_token_is_dead(fake):
    fake.revoke(TOKEN)
    error = raises(
        client_for(fake, refresh_token=None).find,
        Content(text="x"),
        stage={},
        since=datetime.now(UTC),
    )
    assert error.kind == "reauth" and error.requests


def test_fake_user_tweets_validates_its_parameters(fake):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    path = f"/2/users/{USER_ID}/tweets"
    for query in ("max_results=3", "start_time=yesterday", "since_id=abc", "tweet.fields=nope"):
        result = send("GET", fake.url(f"{path}?{query}"), headers=headers)
        assert result.status == 400, query
        assert result.json()["title"] == "Invalid Request"
    empty = send("GET", fake.url(f"{path}?max_results=5"), headers=headers)
    assert empty.json() == {"meta": {"result_count": 0}}
    missing = send("GET", fake.url("/2/users/123/tweets"), headers=headers)
    assert missing.status == 200 and missing.json()["errors"][0]["title"] == "Not Found Error"
