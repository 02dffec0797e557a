"""The LinkedIn client against its contract fake, over real HTTP on loopback."""

import io
import json
import socket
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import urllib3
from PIL import Image

from tribu.channels.networks import http, linkedin
from tribu.channels.networks.base import CannotTell, Content, NotFound, Published, PublishError
from tribu.listening.fetch.http import send
from tribu.publishing.text import linkedin_escape
from tribu.testing.fakes.linkedin import (
    ANALYST_ORG_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    MEMBER_NAME,
    MEMBER_URN,
    ORG_URN,
    SECOND_ORG_ID,
    SECOND_ORG_URN,
    TOKEN,
    LinkedInFake,
    little_text_problem,
)
from tribu.testing.publishing import Stages

KEY = "delivery-key-1"
REDIRECT = "https://tribu.example/channels/linkedin/callback"
Client = linkedin.LinkedInClient


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    """The fake processes in polls and counts, not in seconds."""
    monkeypatch.setattr(Client, "media_poll_delays", (0.01,) * 5)
    monkeypatch.setattr(Client, "member_media_grace", 0.01)
    monkeypatch.setattr(Client, "comment_retry_delays", (0.01, 0.01))
    monkeypatch.setattr(Client, "consent_retry_delay", 0.01)


def configure(settings, fake, **extra):
    settings.TRIBU_NETWORK_APPS = {
        "linkedin": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_url": fake.base_url,
            "auth_url": fake.base_url,
            "version": "202606",
            **extra,
        }
    }


def start(settings, **options):
    fake = LinkedInFake(**options).start()
    configure(settings, fake)
    return fake


@pytest.fixture
def fake(settings):
    fake = start(settings)
    yield fake
    fake.stop()


@pytest.fixture
def partner(settings):
    """An approved partner's app: LinkedIn hands out refresh tokens."""
    fake = start(settings, refresh_tokens=True)
    yield fake
    fake.stop()


def client_for(fake, *, author=ORG_URN, token=TOKEN, secrets=None, timeout=None, name="Acme"):
    channel = SimpleNamespace(
        base_url=fake.base_url,
        account_id=author,
        handle=name,
        name=name,
        secret_values=secrets or {"access_token": token, "author": author},
        limits={},
    )
    return Client(channel, timeout=timeout)


def publish(client, content, *, stage=None, stages=None):
    return client.publish(
        content, idempotency_key=KEY, stage=stage or {}, save_stage=stages or Stages()
    )


def raises(call, *args, **kwargs):
    with pytest.raises(PublishError) as caught:
        call(*args, **kwargs)
    return caught.value


def png(color="red", size=(8, 6)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def images(settings, tmp_path):
    """Three images in MEDIA_ROOT, as Content.media lists them."""
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "posts").mkdir()
    media = []
    for name, color, alt in (
        ("a.png", "red", "Un carré rouge (vif)"),
        ("b.png", "blue", "A blue square"),
        ("c.png", "green", ""),
    ):
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
                "data": data,  # for the assertions only; the client reads the file
            }
        )
    return media


def post_requests(fake):
    return [r for r in fake.requests if r.method == "POST" and r.path == "/rest/posts"]


def init_requests(fake):
    return [r for r in fake.requests if r.method == "POST" and r.path == "/rest/images"]


def put_requests(fake):
    return [r for r in fake.requests if r.method == "PUT"]


def image_reads(fake):
    return [r for r in fake.requests if r.method == "GET" and r.path.startswith("/rest/images/")]


def closed_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def near(moment, expected, seconds=5):
    return abs((moment - expected).total_seconds()) < seconds


# --- connecting with a pasted token ------------------------------------------------------


def test_connect_without_an_account_is_the_member_profile(fake):
    expires = (datetime.now(UTC) + timedelta(days=50)).replace(microsecond=0)
    account = Client.connect(
        fake.base_url, {"access_token": TOKEN, "expires_at": expires.isoformat()}
    )
    assert account.account_id == MEMBER_URN
    assert (account.name, account.handle, account.account_kind) == (
        MEMBER_NAME,
        MEMBER_NAME,
        "profile",
    )
    assert account.avatar_url == fake.member["picture"]
    assert account.secrets == {"access_token": TOKEN, "author": MEMBER_URN}
    # Without a refresh token the member signs in again when the access token ends.
    assert account.token_expires_at == expires
    assert account.consent_expires_at == account.token_expires_at
    assert account.refresh_at is None
    [request] = fake.requests
    assert request.path == "/v2/userinfo"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "linkedin-version" not in request.headers  # /v2 endpoints take no version


def test_connect_an_organization_checks_the_members_role(fake):
    account = Client.connect(fake.base_url, {"access_token": TOKEN, "account_id": ORG_URN})
    assert (account.account_id, account.name, account.handle, account.account_kind) == (
        ORG_URN,
        "Acme",
        "acme",
        "organization",
    )
    assert account.secrets == {"access_token": TOKEN, "author": ORG_URN}
    paths = [request.path for request in fake.requests]
    assert paths == ["/v2/userinfo", "/v2/organizationalEntityAcls", "/rest/organizations/10001"]
    acl_request, org_request = fake.requests[1], fake.requests[2]
    assert acl_request.arg("q") == "roleAssignee" and acl_request.arg("state") == "APPROVED"
    assert org_request.headers["linkedin-version"] == "202606"
    assert org_request.headers["x-restli-protocol-version"] == "2.0.0"
    # A bare page number works too; a content admin may post.
    account = Client.connect(fake.base_url, {"access_token": TOKEN, "account_id": SECOND_ORG_ID})
    assert (account.account_id, account.name) == (SECOND_ORG_URN, "Maison Lumière")


def test_connect_refuses_a_page_the_member_may_not_post_as(fake):
    error = raises(
        Client.connect,
        fake.base_url,
        {"access_token": TOKEN, "account_id": f"urn:li:organization:{ANALYST_ORG_ID}"},
    )
    assert (error.kind, error.code) == ("fatal", "not_admin")
    assert "urn:li:organization:10001 (Acme)" in error.message
    assert "urn:li:organization:10002 (Maison Lumière)" in error.message
    error = raises(
        Client.connect, fake.base_url, {"access_token": TOKEN, "account_id": "acme-page"}
    )
    assert (error.kind, error.code) == ("fix_content", "bad_account_id")
    error = raises(
        Client.connect,
        fake.base_url,
        {"access_token": TOKEN, "account_id": "urn:li:person:someoneElse"},
    )
    assert (error.kind, error.code) == ("fix_content", "wrong_member")
    assert MEMBER_NAME in error.message


def test_connect_an_organization_needs_a_token_that_lists_pages(fake):
    fake.add_token("member-only", scopes={"openid", "profile", "w_member_social"})
    error = raises(
        Client.connect, fake.base_url, {"access_token": "member-only", "account_id": ORG_URN}
    )
    assert (error.kind, error.code) == ("fatal", "cannot_check_role")
    assert "rw_organization_admin" in error.message


@pytest.mark.parametrize(
    ("spoil", "code", "service_code"),
    [
        (lambda fake: fake.revoke(TOKEN), "token_revoked", 65601),
        (lambda fake: fake.expire(TOKEN), "token_expired", 65602),
        (lambda fake: fake.tokens.pop(TOKEN), "token_invalid", 65600),
    ],
)
def test_connect_with_a_dead_token_says_to_sign_in_again(fake, spoil, code, service_code):
    spoil(fake)
    error = raises(Client.connect, fake.base_url, {"access_token": TOKEN})
    assert (error.kind, error.code, error.status, error.sent) == ("reauth", code, 401, False)
    assert "Sign in with LinkedIn again" in error.message
    assert str(service_code) not in error.message  # LinkedIn's words go to the detail
    assert error.detail


def test_connect_asks_again_after_linkedins_propagation_delay(fake):
    fake.revoke_for(TOKEN, 1)
    account = Client.connect(fake.base_url, {"access_token": TOKEN})
    assert account.account_id == MEMBER_URN
    assert [r.path for r in fake.requests] == ["/v2/userinfo", "/v2/userinfo"]
    fake.revoke_for(TOKEN, 2)  # still refused the second time: really revoked
    error = raises(Client.connect, fake.base_url, {"access_token": TOKEN})
    assert error.code == "token_revoked"


def test_connect_with_a_pasted_refresh_token_ends_with_it(fake):
    expires = (datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0)
    consent = expires + timedelta(days=200)
    account = Client.connect(
        fake.base_url,
        {
            "access_token": TOKEN,
            "refresh_token": "pasted-refresh",
            "expires_at": expires.isoformat().replace("+00:00", "Z"),
            "refresh_token_expires_at": consent.isoformat(),
        },
    )
    assert account.secrets["refresh_token"] == "pasted-refresh"
    assert account.consent_expires_at == consent
    assert account.refresh_at == expires - timedelta(days=1)


def test_connect_with_an_unreadable_answer_is_tried_later(fake):
    fake.malformed(path="/v2/userinfo")
    error = raises(Client.connect, fake.base_url, {"access_token": TOKEN})
    assert (error.kind, error.code) == ("retry_later", "bad_answer")


def test_connect_to_an_unreachable_address(settings):
    error = raises(Client.connect, closed_url(), {"access_token": TOKEN})
    assert (error.kind, error.code, error.sent) == ("retry_later", "unreachable", False)


# --- OAuth -------------------------------------------------------------------------------


def authorize(url):
    """The member approves: the fake redirects to our callback with a code and the state."""
    response = urllib3.request("GET", url, redirect=False)
    assert response.status == 302, response.data
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def test_authorization_url_asks_for_the_scopes_without_pkce(fake):
    app = http.app_for("linkedin")
    url = Client.authorization_url(app, REDIRECT, "state-1", http.code_challenge("v" * 50))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == fake.url("/oauth/v2/authorization")
    query = parse_qs(parts.query)
    assert query["scope"] == [linkedin.SCOPES]
    assert "%20" in parts.query and "+" not in parts.query
    assert query["client_id"] == [CLIENT_ID] and query["redirect_uri"] == [REDIRECT]
    assert "code_challenge" not in query  # PKCE is for LinkedIn's native apps only
    answer = authorize(url)
    assert answer["state"] == "state-1" and answer["code"]
    assert "code_challenge" not in fake.authorizations[0]


def test_oauth_gives_the_member_and_the_pages_they_may_post_as(fake):
    app = http.app_for("linkedin")
    code = authorize(Client.authorization_url(app, REDIRECT, "s", "challenge"))["code"]
    grant = Client.exchange_code(app, REDIRECT, code, "verifier")
    assert grant["expires_in"] == 60 * 86400 and "refresh_token" not in grant
    [token_request] = fake.token_requests
    assert token_request["client_secret"] == CLIENT_SECRET
    assert token_request["grant_type"] == "authorization_code"
    assert "code_verifier" not in token_request

    accounts = Client.accounts(app, grant)
    assert [(a.account_id, a.name, a.account_kind) for a in accounts] == [
        (MEMBER_URN, MEMBER_NAME, "profile"),
        (ORG_URN, "Acme", "organization"),
        (SECOND_ORG_URN, "Maison Lumière", "organization"),
    ]  # not the page where the member is only an analyst
    for account in accounts:
        assert account.secrets == {
            "access_token": grant["access_token"],
            "author": account.account_id,
        }
        assert near(account.token_expires_at, datetime.now(UTC) + timedelta(days=60))
        assert account.consent_expires_at == account.token_expires_at
        assert account.refresh_at is None
    # The new token publishes as the page.
    client = client_for(fake, token=grant["access_token"])
    assert publish(client, Content(text="Via OAuth")).remote_id.startswith("urn:li:share:")


def test_a_partners_grant_carries_the_refresh_tokens_year(partner):
    app = http.app_for("linkedin")
    code = authorize(Client.authorization_url(app, REDIRECT, "s", ""))["code"]
    grant = Client.exchange_code(app, REDIRECT, code, "")
    assert grant["refresh_token"] and grant["refresh_token_expires_in"] == 365 * 86400
    member, *pages = Client.accounts(app, grant)
    assert member.secrets["refresh_token"] == grant["refresh_token"]
    assert near(member.consent_expires_at, datetime.now(UTC) + timedelta(days=365))
    assert near(member.refresh_at, member.token_expires_at - timedelta(days=1))
    assert all(page.secrets["refresh_token"] == grant["refresh_token"] for page in pages)


def test_exchange_refuses_a_wrong_or_reused_code_and_a_wrong_secret(fake, settings):
    app = http.app_for("linkedin")
    code = authorize(Client.authorization_url(app, REDIRECT, "s", ""))["code"]
    error = raises(Client.exchange_code, app, REDIRECT + "/other", code, "")
    assert (error.kind, error.code, error.status) == ("fatal", "invalid_grant", 400)
    code = authorize(Client.authorization_url(app, REDIRECT, "s", ""))["code"]
    assert Client.exchange_code(app, REDIRECT, code, "")["access_token"]
    error = raises(Client.exchange_code, app, REDIRECT, code, "")  # a code works once
    assert error.code == "invalid_grant"
    configure(settings, fake, client_secret="wrong")
    error = raises(Client.exchange_code, http.app_for("linkedin"), REDIRECT, "c", "")
    assert (error.kind, error.code, error.status) == ("fatal", "invalid_client", 401)
    assert "TRIBU_LINKEDIN_CLIENT_SECRET" in error.message
    settings.TRIBU_NETWORK_APPS = {}
    error = raises(Client.exchange_code, http.app_for("linkedin"), REDIRECT, "c", "")
    assert error.code == "app_not_configured"


def test_a_member_who_cancels_comes_back_with_an_error(fake):
    fake.deny_next = True
    url = Client.authorization_url(http.app_for("linkedin"), REDIRECT, "s", "")
    answer = authorize(url)
    assert answer["error"] == "user_cancelled_authorize" and answer["state"] == "s"
    assert "code" not in answer


def test_accounts_without_page_access_still_give_the_profile(fake):
    fake.add_token("member-only", scopes={"openid", "profile", "w_member_social"})
    accounts = Client.accounts(http.app_for("linkedin"), {"access_token": "member-only"})
    assert [account.account_id for account in accounts] == [MEMBER_URN]


def test_accounts_wait_for_consent_to_propagate(fake):
    fake.revoke_for(TOKEN, 1)
    accounts = Client.accounts(http.app_for("linkedin"), {"access_token": TOKEN})
    assert len(accounts) == 3


# --- refreshing ----------------------------------------------------------------------------


def partner_grant(fake):
    app = http.app_for("linkedin")
    code = authorize(Client.authorization_url(app, REDIRECT, "s", ""))["code"]
    return Client.exchange_code(app, REDIRECT, code, "")


def test_refresh_without_a_refresh_token_has_nothing_to_do(fake):
    assert client_for(fake).refresh() is None
    assert fake.requests == []


def test_refresh_gives_a_new_access_token_but_not_a_longer_consent(partner):
    grant = partner_grant(partner)
    partner.advance(30 * 86400)
    seen = []
    secrets = {
        "access_token": grant["access_token"],
        "refresh_token": grant["refresh_token"],
        "author": ORG_URN,
    }
    client = client_for(partner, secrets=secrets)
    client.on_secrets = seen.append
    account = client.refresh()
    assert account.secrets["access_token"] != grant["access_token"]
    assert account.secrets["refresh_token"] == grant["refresh_token"]
    assert account.secrets["author"] == ORG_URN
    assert seen == [account.secrets]
    assert near(account.token_expires_at, datetime.now(UTC) + timedelta(days=60))
    # The year counts from the first consent (the fake's clock moved 30 days).
    assert near(account.consent_expires_at, datetime.now(UTC) + timedelta(days=335))
    assert near(account.refresh_at, account.token_expires_at - timedelta(days=1))
    [request] = partner.token_requests[1:]
    assert request["grant_type"] == "refresh_token" and request["client_id"] == CLIENT_ID
    # Both tokens work: the page's channel and the member's each refresh on their own.
    assert publish(client_for(partner, token=grant["access_token"]), Content(text="Old"))
    assert publish(client, Content(text="New"))


def test_refresh_holds_the_channels_lock_and_uses_a_refresh_token_stored_meanwhile(partner):
    old, new = partner_grant(partner), partner_grant(partner)
    partner.revoke(old["refresh_token"])
    held = []

    @contextmanager
    def refresh_lock():
        held.append(True)
        yield {"access_token": new["access_token"], "refresh_token": new["refresh_token"]}

    channel = client_for(partner).channel
    channel.secret_values = {"access_token": "x", "refresh_token": old["refresh_token"]}
    client = Client(channel, refresh_lock=refresh_lock)
    account = client.refresh()
    assert held == [True]
    assert account.secrets["refresh_token"] == new["refresh_token"]
    assert partner.token_requests[-1]["refresh_token"] == new["refresh_token"]


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_a_refused_refresh_needs_the_member_to_sign_in_again(partner, ending):
    grant = partner_grant(partner)
    if ending == "revoked":
        partner.revoke(grant["refresh_token"])
    else:
        partner.advance(366 * 86400)
    client = client_for(
        partner, secrets={"access_token": "x", "refresh_token": grant["refresh_token"]}
    )
    error = raises(client.refresh)
    assert (error.kind, error.code, error.status) == ("reauth", "consent_ended", 400)
    assert "sign in with LinkedIn again" in error.message


def test_refresh_problems_on_linkedins_side_are_tried_later(partner):
    grant = partner_grant(partner)
    partner.fail(503, path="/oauth/v2/accessToken")
    client = client_for(
        partner, secrets={"access_token": "x", "refresh_token": grant["refresh_token"]}
    )
    error = raises(client.refresh)
    assert (error.kind, error.status) == ("retry_later", 503)


def test_an_expired_token_mid_publish_is_refreshed_once(partner):
    grant = partner_grant(partner)
    partner.expire(grant["access_token"])
    seen = []
    secrets = {"access_token": grant["access_token"], "refresh_token": grant["refresh_token"]}
    client = client_for(partner, secrets=secrets)
    client.on_secrets = seen.append
    published = publish(client, Content(text="Après renouvellement"))
    assert published.remote_id.startswith("urn:li:share:")
    assert len(seen) == 1 and seen[0]["access_token"] != grant["access_token"]
    assert [status for _label, status, _ms in published.requests] == [401, 200, 201]


def test_an_expired_token_without_refresh_token_needs_reconnecting(fake):
    fake.expire(TOKEN)
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code, error.status) == ("reauth", "token_expired", 401)
    assert "60 days" in error.message and "Reconnect" in error.message
    assert post_requests(fake)[0].path == "/rest/posts"


# --- publishing text ---------------------------------------------------------------------

SPICY = "Lancement (enfin) ! #Tribu @équipe 50 % *promo* _new_ ~ <3 [x] {y} | a\\b"


def test_publish_text_escapes_every_reserved_character(fake):
    client = client_for(fake)
    stages = Stages()
    published = publish(client, Content(text=SPICY), stages=stages)
    [post] = fake.posts
    assert published.remote_id == post["id"]
    assert published.url == f"https://www.linkedin.com/feed/update/{post['id']}/"
    assert post["_text"] == SPICY  # what readers see: nothing truncated
    assert post["commentary"] == linkedin_escape(SPICY)
    [request] = post_requests(fake)
    assert request.headers["linkedin-version"] == "202606"
    assert request.headers["x-restli-protocol-version"] == "2.0.0"
    body = json.loads(request.body)
    assert body == {
        "author": ORG_URN,
        "commentary": linkedin_escape(SPICY),
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    assert stages.saved == []  # nothing follows the post: nothing to resume
    assert published.requests == [("POST /rest/posts", 201, published.requests[0][2])]


def test_publish_on_the_members_profile(fake):
    published = publish(client_for(fake, author=MEMBER_URN), Content(text="Bonjour"))
    assert fake.posts[0]["author"] == MEMBER_URN
    assert published.remote_id == fake.posts[0]["id"]


def test_the_fake_refuses_unescaped_reserved_characters(fake):
    assert little_text_problem("Hello (world)") == (6, "(")
    assert little_text_problem("a\\(b\\) @[Acme](urn:li:organization:1) {hashtag|\\#|x}") is None
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "LinkedIn-Version": "202606",
        "X-Restli-Protocol-Version": "2.0.0",
        "Content-Type": "application/json",
    }
    body = {
        "author": ORG_URN,
        "commentary": "Promo (enfin)",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
        "lifecycleState": "PUBLISHED",
    }
    result = send("POST", fake.url("/rest/posts"), body=json.dumps(body).encode(), headers=headers)
    assert result.status == 422
    assert "/commentary" in result.json()["message"] and fake.posts == []
    body["commentary"] = "Merci @[Acme](urn:li:organization:10001) {hashtag|\\#|tribu}"
    result = send("POST", fake.url("/rest/posts"), body=json.dumps(body).encode(), headers=headers)
    assert result.status == 201 and fake.posts[0]["_text"] == "Merci Acme #tribu"


def test_every_rest_call_needs_the_version_headers(fake):
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Restli-Protocol-Version": "2.0.0"}
    result = send("GET", fake.url("/rest/organizations/10001"), headers=headers)
    assert (result.status, result.json()["code"]) == (400, "VERSION_MISSING")
    headers["LinkedIn-Version"] = "202606"
    del headers["X-Restli-Protocol-Version"]
    assert send("GET", fake.url("/rest/organizations/10001"), headers=headers).status == 400


def test_a_retired_version_tells_the_operator_what_to_change(fake, settings):
    configure(settings, fake, version="202401")
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code, error.status) == ("fatal", "version_retired", 426)
    assert "TRIBU_LINKEDIN_API_VERSION" in error.message and "202401" in error.message
    assert fake.posts == []


def test_text_over_the_limit_needs_editing(fake):
    error = raises(publish, client_for(fake), Content(text="x" * 3001))
    assert (error.kind, error.code, error.status) == ("fix_content", "rejected", 422)
    assert "3000" in error.message
    assert error.requests and error.requests[0][:2] == ("POST /rest/posts", 422)


# --- images ----------------------------------------------------------------------------


def test_one_image_with_alt_text_is_polled_until_available(fake, images):
    fake.processing_polls = 2
    stages = Stages()
    published = publish(
        client_for(fake), Content(text="Une image", media=images[:1]), stages=stages
    )
    [post] = fake.posts
    [urn] = [entry["urn"] for entry in stages.last["images"]]
    assert post["content"] == {"media": {"id": urn, "altText": "Un carré rouge (vif)"}}
    assert fake.images[urn]["data"] == images[0]["data"]
    # The URN is saved before the bytes leave, then marked uploaded.
    assert stages.saved == [
        {"images": [{"urn": urn, "uploaded": False}]},
        {"images": [{"urn": urn, "uploaded": True}]},
    ]
    [init] = init_requests(fake)
    assert init.arg("action") == "initializeUpload"
    assert json.loads(init.body) == {"initializeUploadRequest": {"owner": ORG_URN}}
    [put] = put_requests(fake)
    assert put.headers["authorization"] == f"Bearer {TOKEN}"
    assert "linkedin-version" not in put.headers and put.body == images[0]["data"]
    assert len(image_reads(fake)) == 3  # PROCESSING twice, then AVAILABLE
    assert image_reads(fake)[0].headers["linkedin-version"] == "202606"
    assert published.remote_id == post["id"]


def test_several_images_make_a_multi_image_post(fake, images):
    stages = Stages()
    publish(client_for(fake), Content(text="Trois images", media=images), stages=stages)
    urns = [entry["urn"] for entry in stages.last["images"]]
    assert fake.posts[0]["content"] == {
        "multiImage": {
            "images": [
                {"id": urns[0], "altText": "Un carré rouge (vif)"},
                {"id": urns[1], "altText": "A blue square"},
                {"id": urns[2]},
            ]
        }
    }
    assert len(set(urns)) == 3 and len(put_requests(fake)) == 3


def test_a_members_images_are_not_polled_but_waited_for(fake, images, monkeypatch):
    waits = []
    monkeypatch.setattr(linkedin, "time", SimpleNamespace(sleep=waits.append))
    publish(client_for(fake, author=MEMBER_URN), Content(text="Profil", media=images[:2]))
    assert image_reads(fake) == []  # write-only with w_member_social
    assert waits == [Client.member_media_grace]
    assert len(fake.posts[0]["content"]["multiImage"]["images"]) == 2


def test_a_members_image_not_ready_is_retried_without_uploading_again(fake, images):
    fake.processing_seconds = 60
    client = client_for(fake, author=MEMBER_URN)
    stages = Stages()
    content = Content(text="Pas encore prête", media=images[:1])
    error = raises(publish, client, content, stages=stages)
    assert (error.kind, error.code, error.status) == ("retry_later", "media_processing", 422)
    assert error.retry_after == linkedin.NOT_READY_WAIT
    assert fake.posts == [] and stages.last["images"][0]["uploaded"] is True
    fake.advance(61)
    publish(client, content, stage=stages.last)
    assert len(init_requests(fake)) == 1 and len(put_requests(fake)) == 1
    assert len(fake.posts) == 1


def test_a_pages_image_processing_too_long_is_retried_without_uploading_again(fake, images):
    fake.processing_polls = 100
    client = client_for(fake)
    stages = Stages()
    content = Content(text="Lente", media=images[:2])
    error = raises(publish, client, content, stages=stages)
    assert (error.kind, error.code) == ("retry_later", "media_processing")
    assert fake.posts == [] and len(put_requests(fake)) == 2
    for image in fake.images.values():
        image["polls_left"] = 0
    publish(client, content, stage=stages.last)
    assert len(init_requests(fake)) == 2 and len(put_requests(fake)) == 2
    assert len(fake.posts) == 1


def test_an_image_linkedin_cannot_process_needs_another_file(fake, images):
    fake.fail_processing_next = True
    error = raises(publish, client_for(fake), Content(text="Cassée", media=images[:1]))
    assert (error.kind, error.code) == ("fix_content", "media_failed")
    assert "a.png" in error.message and fake.posts == []


def test_a_lost_upload_answer_on_a_page_is_checked_not_uploaded_again(fake, images):
    fake.drop_after_processing(path="/dms-uploads/")
    client = client_for(fake)
    stages = Stages()
    content = Content(text="Réponse d'envoi perdue", media=images[:1])
    error = raises(publish, client, content, stages=stages)
    assert (error.kind, error.code) == ("retry_later", "no_answer")
    [entry] = stages.last["images"]
    assert entry["uploaded"] is False
    publish(client, content, stage=stages.last)
    # LinkedIn had the bytes: same image, no second upload.
    assert len(init_requests(fake)) == 1 and len(put_requests(fake)) == 1
    assert fake.posts[0]["content"]["media"]["id"] == entry["urn"]


def test_a_lost_upload_answer_for_a_member_uploads_again(fake, images):
    fake.drop_after_processing(path="/dms-uploads/")
    client = client_for(fake, author=MEMBER_URN)
    stages = Stages()
    content = Content(text="Profil, envoi perdu", media=images[:1])
    raises(publish, client, content, stages=stages)
    first = stages.last["images"][0]["urn"]
    publish(client, content, stage=stages.last)
    assert len(init_requests(fake)) == 2  # a member cannot ask LinkedIn whether it arrived
    assert fake.posts[0]["content"]["media"]["id"] != first


def test_too_many_or_missing_images_need_editing_and_send_nothing(fake, images):
    error = raises(publish, client_for(fake), Content(text="x", media=images * 7))
    assert (error.kind, error.code, error.sent) == ("fix_content", "too_many_images", False)
    gone = dict(images[0], path="posts/gone.png")
    error = raises(publish, client_for(fake), Content(text="x", media=[gone]))
    assert (error.kind, error.code) == ("fix_content", "media_missing")
    assert fake.requests == []


def test_an_unreadable_upload_answer_is_tried_later(fake, images):
    fake.malformed(path="/rest/images")
    error = raises(publish, client_for(fake), Content(text="x", media=images[:1]))
    assert (error.kind, error.code) == ("retry_later", "bad_answer")


# --- link cards ----------------------------------------------------------------------------


def test_a_link_card_is_an_article_with_its_picture_uploaded(fake, images):
    card = {
        "url": "https://acme.example/blog/rentree",
        "title": "La rentrée",
        "description": "Ce qui change",
        "image": images[0]["path"],
    }
    stages = Stages()
    publish(client_for(fake), Content(text="À lire", link_card=card), stages=stages)
    [entry] = stages.last["thumbnail"]
    assert fake.posts[0]["content"] == {
        "article": {
            "source": card["url"],
            "title": "La rentrée",
            "description": "Ce qui change",
            "thumbnail": entry["urn"],
        }
    }
    assert fake.images[entry["urn"]]["data"] == images[0]["data"]


def test_a_link_cards_picture_elsewhere_or_missing_is_left_out(fake, images):
    for picture in ("https://cdn.example/p.jpg", "posts/gone.png", None):
        card = {"url": "https://acme.example/", "image": picture}
        publish(client_for(fake), Content(text=f"Lien {picture}", link_card=card))
        article = fake.posts[-1]["content"]["article"]
        assert article == {"source": "https://acme.example/", "title": "https://acme.example/"}
    assert init_requests(fake) == []


def test_images_win_over_a_link_card(fake, images):
    card = {"url": "https://acme.example/", "title": "Acme"}
    publish(client_for(fake), Content(text="Les deux", media=images[:1], link_card=card))
    assert list(fake.posts[0]["content"]) == ["media"]


# --- first comment -----------------------------------------------------------------------


def test_the_first_comment_follows_the_post(fake):
    stages = Stages()
    published = publish(
        client_for(fake),
        Content(text="Nouveau", first_comment="Le lien (ici) #bonus"),
        stages=stages,
    )
    [post] = fake.posts
    [comment] = fake.comments
    assert comment["actor"] == ORG_URN and comment["object"] == post["id"]
    assert comment["message"] == {"text": "Le lien (ici) #bonus"}  # plain text, not escaped
    [request] = [r for r in fake.requests if r.path.startswith("/rest/socialActions/")]
    assert request.headers["linkedin-version"] == "202606"
    # The URN is URL-encoded in the path (the fake refuses it otherwise).
    assert published.requests[-1][0] == (
        f"POST /rest/socialActions/{quote(post['id'], safe='')}/comments"
    )
    # The post URN is saved before the comment leaves.
    assert stages.saved == [{"post": post["id"], "url": published.url}]
    assert published.remote_id == post["id"]


def test_a_resumed_attempt_with_a_post_only_adds_the_comment(fake):
    client = client_for(fake)
    stages = Stages()
    content = Content(text="Publié, commentaire en attente", first_comment="Premier !")
    fake.fail(500, path="/rest/socialActions/")
    error = raises(publish, client, content, stages=stages)
    assert (error.kind, error.status) == ("retry_later", 500)
    assert "published on LinkedIn" in error.message and fake.posts[0]["id"] in error.message
    published = publish(client, content, stage=stages.last)
    assert len(fake.posts) == 1 and len(fake.comments) == 1
    assert published.remote_id == fake.posts[0]["id"]
    assert [label for label, _status, _ms in published.requests] == [
        f"POST /rest/socialActions/{quote(fake.posts[0]['id'], safe='')}/comments"
    ]


def test_unable_to_obtain_activity_is_asked_again(fake):
    fake.activity_lag = 2
    publish(client_for(fake), Content(text="Tout neuf", first_comment="Vite"))
    assert len(fake.comments) == 1
    comment_calls = [r for r in fake.requests if r.path.startswith("/rest/socialActions/")]
    assert len(comment_calls) == 3


def test_unable_to_obtain_activity_for_too_long_is_retried_later(fake):
    fake.activity_lag = 5
    error = raises(publish, client_for(fake), Content(text="Lent", first_comment="Vite"))
    assert (error.kind, error.code) == ("retry_later", "server_error")
    assert len(fake.posts) == 1 and fake.comments == []


# --- outcomes the publisher must not repeat ------------------------------------------------


def test_a_201_without_the_post_urn_is_unknown_and_not_found(fake):
    fake.publish_without_id()
    client = client_for(fake)
    content = Content(text="Rien n'apparaît")
    error = raises(publish, client, content)
    assert (error.kind, error.code, error.status) == ("unknown", "no_post_id", 201)
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert isinstance(client.find(content, stage={}, since=since), NotFound)
    publish(client, content)
    assert len(fake.posts) == 1


def test_a_stalled_post_is_unknown_then_found(fake):
    fake.stall_after_processing(1.5, path="/rest/posts")
    client = client_for(fake, timeout=0.5)
    content = Content(text="Réponse (perdue)")
    since = datetime.now(UTC)
    error = raises(publish, client, content)
    assert (error.kind, error.sent) == ("unknown", True)
    assert not Client.idempotent
    found = client_for(fake).find(content, stage={}, since=since)
    assert isinstance(found, Published)
    assert found.remote_id == fake.posts[0]["id"] and found.url.endswith(f"{found.remote_id}/")
    [read] = [r for r in fake.requests if r.method == "GET" and r.path == "/rest/posts"]
    assert (read.arg("q"), read.arg("author"), read.arg("count"), read.arg("sortBy")) == (
        "author",
        ORG_URN,
        "10",
        "LAST_MODIFIED",
    )
    assert len(fake.posts) == 1


def test_a_dropped_post_answer_is_unknown(fake):
    fake.drop_after_processing(path="/rest/posts")
    error = raises(publish, client_for(fake), Content(text="Coupé"))
    assert (error.kind, error.code, error.sent) == ("unknown", "no_answer", True)
    assert len(fake.posts) == 1


def test_an_unreadable_post_answer_without_urn_is_unknown(fake):
    fake.malformed(path="/rest/posts")
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code) == ("unknown", "no_post_id")


# --- errors ------------------------------------------------------------------------------


def test_a_revoked_token_needs_reconnecting(fake):
    fake.revoke(TOKEN)
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code, error.status) == ("reauth", "token_revoked", 401)
    assert "REVOKED_ACCESS_TOKEN" in error.detail


def test_a_rate_limit_waits_until_linkedins_quotas_reset(fake):
    fake.fail(429, path="/rest/posts")
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.code, error.status) == ("retry_later", "rate_limited", 429)
    assert linkedin.RATE_LIMIT_MIN_WAIT <= error.retry_after <= linkedin.RATE_LIMIT_MAX_WAIT
    assert "midnight UTC" in error.message
    fake.fail(429, retry_after="120", path="/rest/posts")
    error = raises(publish, client_for(fake), Content(text="x"))
    assert error.retry_after == 120  # a Retry-After wins


def test_rate_limit_wait_is_the_time_to_midnight_utc_within_bounds():
    at = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)
    assert linkedin.rate_limit_wait({}, at) == 1801
    assert linkedin.rate_limit_wait({}, at.replace(hour=10)) == linkedin.RATE_LIMIT_MAX_WAIT
    assert linkedin.rate_limit_wait({}, at.replace(minute=59, second=50)) == 60
    assert linkedin.rate_limit_wait({"retry-after": "7"}, at) == 7


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_later(fake, status):
    fake.fail(status, path="/rest/posts")
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.status) == ("retry_later", status)
    assert fake.posts == []


def test_linkedins_retryable_messages_are_retried_later(fake):
    fake.respond_raw(
        json.dumps({"status": 400, "message": "Service Unavailable, try again"}).encode(),
        status=400,
        path="/rest/posts",
    )
    error = raises(publish, client_for(fake), Content(text="x"))
    assert (error.kind, error.status) == ("retry_later", 400)


def test_posting_as_a_page_without_the_role_is_fatal_and_names_it(fake):
    analyst = f"urn:li:organization:{ANALYST_ORG_ID}"
    error = raises(
        publish, client_for(fake, author=analyst, name="Café Analyse"), Content(text="x")
    )
    assert (error.kind, error.code, error.status) == ("fatal", "forbidden", 403)
    assert "Café Analyse" in error.message and "administrator" in error.message
    assert "ACCESS_DENIED" in error.detail


def test_an_unreachable_api_was_never_sent_to(fake):
    client = client_for(fake)
    client.channel.base_url = closed_url()
    error = raises(publish, client, Content(text="x"))
    assert (error.kind, error.code, error.sent) == ("retry_later", "unreachable", False)


# --- find ----------------------------------------------------------------------------------


def test_find_on_a_members_profile_cannot_tell(fake):
    client = client_for(fake, author=MEMBER_URN, name=MEMBER_NAME)
    found = client.find(Content(text="x"), stage={}, since=datetime.now(UTC))
    assert isinstance(found, CannotTell)
    assert MEMBER_NAME in found.reason and "Publish again" in found.reason
    assert fake.requests == []


def test_find_compares_text_and_time(fake):
    client = client_for(fake)
    publish(client, Content(text="Ancien *texte*"))
    fake.advance(3600)
    since = datetime.fromtimestamp(fake.now(), UTC) - timedelta(minutes=1)
    assert isinstance(client.find(Content(text="Ancien *texte*"), stage={}, since=since), NotFound)
    publish(client, Content(text="Nouveau *texte*"))
    found = client.find(Content(text="Nouveau  *texte*\n"), stage={}, since=since)
    assert isinstance(found, Published) and found.remote_id == fake.posts[1]["id"]
    assert isinstance(client.find(Content(text="Autre"), stage={}, since=since), NotFound)


def test_find_with_the_saved_post_urn_needs_no_request(fake):
    found = client_for(fake).find(
        Content(text="x"), stage={"post": "urn:li:share:1"}, since=datetime.now(UTC)
    )
    assert isinstance(found, Published) and found.remote_id == "urn:li:share:1"
    assert fake.requests == []


def test_find_checks_a_pages_first_comment(fake):
    client = client_for(fake)
    content = Content(text="Avec commentaire", first_comment="Le lien")
    fake.fail(500, path="/rest/socialActions/")
    stages = Stages()
    raises(publish, client, content, stages=stages)
    since = datetime.now(UTC) - timedelta(minutes=1)
    # The post is online without its comment: published, with a warning to finish by hand.
    missing = client.find(content, stage=stages.last, since=since)
    assert isinstance(missing, Published) and missing.remote_id == fake.posts[0]["id"]
    assert "by hand" in missing.warnings[0] and fake.posts[0]["id"] in missing.warnings[0]
    publish(client, content, stage=stages.last)
    found = client.find(content, stage=stages.last, since=since)
    assert isinstance(found, Published) and not found.warnings
    # Found by text only, the comment was certainly never sent.
    found = client.find(content, stage={}, since=since)
    assert isinstance(found, Published) and "first comment is not" in found.warnings[0]


def test_a_first_comment_refused_for_good_leaves_the_post_published_with_a_warning(fake):
    client = client_for(fake)
    content = Content(text="Avec commentaire", first_comment="x" * 1300)  # over 1,250
    published = publish(client, content)
    assert published.remote_id == fake.posts[0]["id"] and fake.comments == []
    assert published.warnings and "first comment could not be added" in published.warnings[0]


def test_a_lost_comment_answer_is_unknown_and_found_under_the_post(fake):
    client = client_for(fake)
    content = Content(text="Commentaire perdu", first_comment="Suite ici")
    fake.drop_after_processing(path="/rest/socialActions/")
    stages = Stages()
    error = raises(publish, client, content, stages=stages)
    assert (error.kind, error.code) == ("unknown", "no_answer")
    assert "may be there already" in error.message
    since = datetime.now(UTC) - timedelta(minutes=1)
    found = client.find(content, stage=stages.last, since=since)
    assert isinstance(found, Published) and found.remote_id == fake.posts[0]["id"]
    assert len(fake.comments) == 1
    # A member's comments cannot be read: a person checks.
    member = client_for(fake, author=MEMBER_URN)
    found = member.find(content, stage=stages.last, since=since)
    assert isinstance(found, CannotTell) and "It was published" in found.reason


def test_find_when_linkedin_will_not_show_the_pages_posts(fake):
    fake.add_token("write-only", scopes={"w_organization_social", "rw_organization_admin"})
    found = client_for(fake, token="write-only").find(
        Content(text="x"), stage={}, since=datetime.now(UTC)
    )
    assert isinstance(found, CannotTell) and "Acme" in found.reason


def test_find_raises_when_the_answer_is_unreadable_or_the_token_dead(fake):
    fake.malformed(path="/rest/posts")
    client = client_for(fake)
    error = raises(client.find, Content(text="x"), stage={}, since=datetime.now(UTC))
    assert (error.kind, error.code) == ("retry_later", "bad_answer")
    fake.revoke(TOKEN)
    error = raises(client.find, Content(text="x"), stage={}, since=datetime.now(UTC))
    assert error.kind == "reauth"


# --- the fake's own bookkeeping ----------------------------------------------------------


def test_the_fake_counts_duplicates_since_linkedin_has_no_idempotency(fake):
    client = client_for(fake)
    publish(client, Content(text="Deux fois"))
    publish(client, Content(text="Deux fois"))
    publish(client_for(fake, author=MEMBER_URN), Content(text="Une fois ici"))
    stats = json.loads(send("GET", fake.url("/_fake/stats")).body)
    assert stats["posts"] == 3 and stats["duplicates"] == ["Deux fois"]
