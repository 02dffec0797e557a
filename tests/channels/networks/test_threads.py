"""The Threads client (tribu/channels/networks/threads.py) against the Threads fake
(tribu/testing/fakes/threads.py), over real HTTP on loopback. Images go the way they go in
production: Tribu serves them at a signed address (Django's live server here) and the fake
downloads them, as Meta does."""

import dataclasses
import hashlib
import io
import json
import socket
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from PIL import Image

from tribu.channels.networks import threads
from tribu.channels.networks.base import (
    CannotTell,
    Content,
    ErrorKind,
    NotFound,
    Published,
    PublishError,
)
from tribu.channels.networks.http import app_for
from tribu.listening.fetch.http import send
from tribu.testing.fakes.threads import (
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN,
    USER_ID,
    USERNAME,
    ThreadsFake,
    threads_count,
)
from tribu.testing.publishing import Stages

REDIRECT = "https://tribu.example.com/channels/connect/threads/callback"
V = "/v1.0"
CREATE = f"{V}/{USER_ID}/threads"
PUBLISH = f"{V}/{USER_ID}/threads_publish"
LIMIT = f"{V}/{USER_ID}/threads_publishing_limit"
CONTAINERS = f"{V}/1806"  # the fake's container and media ids start with 1806


@pytest.fixture(autouse=True)
def loopback(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def fake(settings):
    with ThreadsFake() as server:
        settings.TRIBU_NETWORK_APPS = {
            "threads": {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "api_url": server.base_url,
                "auth_url": server.base_url,
                "version": "v1.0",
            }
        }
        yield server


@pytest.fixture
def app(fake):
    return app_for("threads")


def client_for(fake, *, token=TOKEN, timeout=None, secrets=None, expires=None, stored=None):
    channel = SimpleNamespace(
        base_url=fake.base_url,
        account_id=USER_ID,
        handle=f"@{USERNAME}",
        name="Maison Lumière",
        secret_values=secrets or {"access_token": token},
        token_expires_at=expires,
        limits={},
    )
    client = threads.ThreadsClient(
        channel, timeout=timeout, on_secrets=(stored.append if stored is not None else None)
    )
    client.container_poll_delays = (0.01,) * 4  # the fake processes in polls, not seconds
    return client


def publish(client, content, stages=None):
    stages = stages if stages is not None else Stages()
    published = client.publish(
        content, idempotency_key="delivery-1", stage=stages.last, save_stage=stages
    )
    return published, stages


def past_quota(fake, path):
    """Fault paths match by prefix, and the quota read's path (…/threads_publishing_limit)
    starts like the container creation's and the publication's: let it through first."""
    fake.pass_through(path=LIMIT)
    return path


def paths(fake, method=None):
    return [r.path for r in fake.requests if method is None or r.method == method]


def closed_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def png(color, size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def write_images(root, count):
    (root / "posts").mkdir(exist_ok=True)
    media = []
    for number, color in zip(range(count), ("red", "blue", "green"), strict=False):
        data = png(color)
        (root / "posts" / f"image-{number}.png").write_bytes(data)
        media.append(
            {
                "path": f"posts/image-{number}.png",
                "alt": f"Un carré {color}",
                "content_type": "image/png",
                "width": 40,
                "height": 30,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),  # for the assertions only
            }
        )
    return media


@pytest.fixture
def served(settings, tmp_path, live_server):
    """Tribu's own address, where the fake downloads the images from."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.TRIBU_BASE_URL = live_server.url
    return tmp_path


def near(moment, expected, seconds=10):
    return abs((moment - expected).total_seconds()) < seconds


# --- connecting with a pasted token ----------------------------------------------------


def test_connect_describes_the_profile_and_plans_a_first_refresh(fake):
    account = threads.ThreadsClient.connect(fake.base_url, {"access_token": TOKEN})
    assert account.account_id == USER_ID
    assert account.handle == f"@{USERNAME}"
    assert account.name == "Maison Lumière"
    assert account.avatar_url == fake.user["threads_profile_picture_url"]
    assert account.account_kind == "profile"
    assert account.secrets == {"access_token": TOKEN}
    assert account.limits == {"max_characters": 500, "max_media": 20}
    # The token's age is unknown: refreshed once it is surely a day old.
    assert account.token_expires_at is None and account.consent_expires_at is None
    assert near(account.refresh_at, datetime.now(UTC) + timedelta(hours=24, minutes=5))
    [request] = fake.requests
    assert request.path == f"{V}/me"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.arg("fields") == "id,username,name,threads_profile_picture_url"
    assert "access_token" not in request.args  # never in a query string


def test_connect_with_an_expiry_refreshes_half_way(fake):
    expires = datetime.now(UTC) + timedelta(days=50)
    account = threads.ThreadsClient.connect(
        fake.base_url, {"access_token": TOKEN, "expires_at": expires.isoformat()}
    )
    assert account.token_expires_at == expires
    # Issued about ten days ago: refreshed 30 days after that.
    assert near(account.refresh_at, datetime.now(UTC) + timedelta(days=20))


def test_connect_refuses_a_token_of_another_profile(fake):
    with pytest.raises(PublishError) as caught:
        threads.ThreadsClient.connect(fake.base_url, {"access_token": TOKEN, "account_id": "42"})
    assert (caught.value.kind, caught.value.code) == (ErrorKind.FIX_CONTENT, "choose_account")
    assert f"{USER_ID} (@{USERNAME})" in caught.value.message
    account = threads.ThreadsClient.connect(
        fake.base_url, {"access_token": TOKEN, "account_id": USER_ID}
    )
    assert account.account_id == USER_ID


def test_connect_with_a_dead_or_missing_token_asks_for_a_new_one(fake):
    fake.revoke(TOKEN)
    with pytest.raises(PublishError) as caught:
        threads.ThreadsClient.connect(fake.base_url, {"access_token": TOKEN})
    assert caught.value.kind == ErrorKind.REAUTH
    assert "paste it again" in caught.value.message
    assert caught.value.detail.startswith("190/460:")
    with pytest.raises(PublishError) as caught:
        threads.ThreadsClient.connect(fake.base_url, {"access_token": " "})
    assert (caught.value.kind, caught.value.sent) == (ErrorKind.REAUTH, False)


def test_connect_to_an_unreachable_or_confused_api(fake):
    with pytest.raises(PublishError) as caught:
        threads.ThreadsClient.connect(closed_url(), {"access_token": TOKEN})
    assert (caught.value.kind, caught.value.sent) == (ErrorKind.RETRY_LATER, False)
    fake.malformed(path=f"{V}/me")
    with pytest.raises(PublishError) as caught:
        threads.ThreadsClient.connect(fake.base_url, {"access_token": TOKEN})
    assert (caught.value.kind, caught.value.code) == (ErrorKind.RETRY_LATER, "bad_answer")


# --- OAuth -----------------------------------------------------------------------------


def authorize(url):
    """What the browser does: open the sign-in page, follow its redirect back to Tribu."""
    answer = send("GET", url)
    assert answer.status == 302
    location = urlsplit(answer.headers["location"])
    return location, {key: values[0] for key, values in parse_qs(location.query).items()}


def test_oauth_gives_a_long_lived_token_and_the_profile(fake, app):
    url = threads.ThreadsClient.authorization_url(app, REDIRECT, "state-1", "challenge-xyz")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == fake.base_url
    assert parts.path == "/oauth/authorize"
    assert {key: values[0] for key, values in parse_qs(parts.query).items()} == {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "threads_basic,threads_content_publish,threads_manage_replies,"
        "threads_read_replies",
        "response_type": "code",
        "state": "state-1",
    }
    location, query = authorize(url)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == "state-1" and location.fragment == "_"

    before = datetime.now(UTC)
    grant = threads.ThreadsClient.exchange_code(app, REDIRECT, query["code"], "unused-verifier")
    assert grant["user_id"] == USER_ID
    record = fake.tokens[grant["access_token"]]
    assert record["kind"] == "long"  # exchanged: not the one-hour token
    expires = datetime.fromisoformat(grant["expires_at"])
    assert near(expires, before + timedelta(seconds=5_183_944))
    code_request, exchange_request = fake.requests[-2:]
    assert code_request.method == "POST" and code_request.path == "/oauth/access_token"
    assert parse_qs(code_request.body.decode()) == {
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "grant_type": ["authorization_code"],
        "redirect_uri": [REDIRECT],
        "code": [query["code"]],
    }
    assert exchange_request.path == "/access_token"
    assert exchange_request.arg("grant_type") == "th_exchange_token"
    assert exchange_request.arg("client_secret") == CLIENT_SECRET

    [account] = threads.ThreadsClient.accounts(app, grant)
    assert (account.account_id, account.handle, account.account_kind) == (
        USER_ID,
        f"@{USERNAME}",
        "profile",
    )
    issued = datetime.fromisoformat(grant["issued_at"])
    assert account.secrets == {
        "access_token": grant["access_token"],
        "token_issued_at": issued.isoformat(),
    }
    assert account.token_expires_at == expires
    assert account.refresh_at == issued + timedelta(days=30)  # not 15 minutes before the end
    assert account.consent_expires_at is None


def test_oauth_refused_by_the_user(fake, app):
    fake.deny_next = True
    _location, query = authorize(
        threads.ThreadsClient.authorization_url(app, REDIRECT, "state-2", "")
    )
    assert query == {
        "error": "access_denied",
        "error_reason": "user_denied",
        "error_description": "Permissions error",
        "state": "state-2",
    }


def test_a_used_or_foreign_code_and_a_wrong_app_secret_are_explained(fake, app):
    _location, query = authorize(threads.ThreadsClient.authorization_url(app, REDIRECT, "s", ""))
    threads.ThreadsClient.exchange_code(app, REDIRECT, query["code"], "")
    with pytest.raises(PublishError) as caught:
        threads.ThreadsClient.exchange_code(app, REDIRECT, query["code"], "")
    assert (caught.value.kind, caught.value.code) == (ErrorKind.FATAL, "invalid_grant")
    assert "36009" in caught.value.detail and "connecting the account again" in caught.value.message

    _location, query = authorize(threads.ThreadsClient.authorization_url(app, REDIRECT, "s", ""))
    with pytest.raises(PublishError) as caught:
        threads.ThreadsClient.exchange_code(app, REDIRECT + "/other", query["code"], "")
    assert (caught.value.code, caught.value.status) == ("invalid_grant", 400)

    wrong = dataclasses.replace(app, client_secret="nope")
    with pytest.raises(PublishError) as caught:
        threads.ThreadsClient.exchange_code(wrong, REDIRECT, query["code"], "")
    assert (caught.value.kind, caught.value.code) == (ErrorKind.FATAL, "invalid_client")
    assert "TRIBU_THREADS_CLIENT_SECRET" in caught.value.message


def test_the_fake_refuses_unknown_scopes_and_unregistered_redirects(fake, app):
    query = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code"}
    answer = send("GET", fake.url("/oauth/authorize?" + urlencode({**query, "scope": "publish"})))
    assert answer.status == 400 and answer.json()["error"]["message"].startswith("Invalid Scopes")
    fake.redirect_uris = {"https://elsewhere.example/callback"}
    answer = send(
        "GET", fake.url("/oauth/authorize?" + urlencode({**query, "scope": "threads_basic"}))
    )
    assert answer.status == 400 and answer.json()["error"]["code"] == 191


# --- refreshing ------------------------------------------------------------------------


def test_refresh_trades_a_day_old_token_for_a_new_60_day_one(fake):
    issued = fake.now() - timedelta(days=31)
    fake.add_token("old-token", issued_at=issued)
    stored = []
    client = client_for(
        fake,
        secrets={"access_token": "old-token", "token_issued_at": issued.isoformat()},
        expires=issued + timedelta(days=60),
        stored=stored,
    )
    update = client.refresh()
    [request] = fake.requests
    assert request.path == "/refresh_access_token"
    assert request.arg("grant_type") == "th_refresh_token"
    assert request.arg("access_token") == "old-token"
    [secrets] = stored  # handed over at once
    assert secrets["access_token"] != "old-token" and secrets == update.secrets
    assert fake.tokens[secrets["access_token"]]["kind"] == "long"
    now = datetime.now(UTC)
    assert near(datetime.fromisoformat(secrets["token_issued_at"]), now)
    assert near(update.token_expires_at, now + timedelta(seconds=5_183_944))
    assert near(update.refresh_at, now + timedelta(days=30))
    assert update.consent_expires_at is None
    # The new token works.
    assert client_for(fake, token=secrets["access_token"]).get("me", fields="username") == {
        "id": USER_ID,
        "username": USERNAME,
    }


def test_a_token_younger_than_a_day_is_not_refreshed_yet(fake):
    issued = datetime.now(UTC) - timedelta(hours=3)
    expires = issued + timedelta(days=60)
    client = client_for(
        fake,
        secrets={"access_token": TOKEN, "token_issued_at": issued.isoformat()},
        expires=expires,
    )
    update = client.refresh()
    assert fake.requests == []
    assert update.secrets == {} and update.token_expires_at == expires
    assert update.refresh_at == issued + timedelta(days=30)


def test_a_token_stored_meanwhile_is_not_refreshed_again(fake):
    """Another worker refreshed while this one waited for the channel's refresh lock."""
    issued = datetime.now(UTC) - timedelta(minutes=1)
    stored = {"access_token": "refreshed-meanwhile", "token_issued_at": issued.isoformat()}

    @contextmanager
    def refresh_lock():
        yield stored

    old = datetime.now(UTC) - timedelta(days=30)
    client = client_for(fake, secrets={"access_token": TOKEN, "token_issued_at": old.isoformat()})
    client.refresh_lock = refresh_lock
    update = client.refresh()
    assert fake.requests == []
    assert update.token_expires_at == issued + timedelta(days=60)
    assert update.refresh_at == issued + timedelta(days=30)


def test_a_refused_or_expired_token_needs_reconnecting(fake):
    issued = fake.now() - timedelta(days=2)
    fake.add_token("revoked", issued_at=issued)
    fake.revoke("revoked")
    with pytest.raises(PublishError) as caught:
        client_for(fake, token="revoked").refresh()
    assert (caught.value.kind, caught.value.code) == (ErrorKind.REAUTH, "token_invalid")

    past = datetime.now(UTC) - timedelta(minutes=1)
    with pytest.raises(PublishError) as caught:
        client_for(fake, expires=past).refresh()
    assert (caught.value.kind, caught.value.code, caught.value.sent) == (
        ErrorKind.REAUTH,
        "token_expired",
        False,
    )
    assert [r.path for r in fake.requests] == ["/refresh_access_token"]  # not the second

    fake.advance(61 * 24 * 3600)  # Threads' own clock says it has expired
    with pytest.raises(PublishError) as caught:
        client_for(fake).refresh()
    assert caught.value.kind == ErrorKind.REAUTH and "190/463" in caught.value.detail


def test_a_malformed_refresh_answer_is_retried(fake):
    fake.malformed(path="/refresh_access_token")
    with pytest.raises(PublishError) as caught:
        client_for(fake).refresh()
    assert (caught.value.kind, caught.value.code) == (ErrorKind.RETRY_LATER, "bad_answer")


# --- publishing ------------------------------------------------------------------------


def test_publish_text_through_a_container(fake):
    published, stages = publish(client_for(fake), Content(text="Bonjour la tribu 👋"))
    [media] = fake.media
    assert isinstance(published, Published)
    assert published.remote_id == media["id"] and published.url == media["permalink"]
    assert media["text"] == "Bonjour la tribu 👋" and media["media_type"] == "TEXT"
    [create] = fake.container_requests()
    assert parse_qs(create.body.decode()) == {
        "media_type": ["TEXT"],
        "text": ["Bonjour la tribu 👋"],
    }
    [container_id] = fake.containers
    [publish_request] = fake.publish_requests()
    assert parse_qs(publish_request.body.decode()) == {"creation_id": [container_id]}
    assert [(request, status) for request, status, _ms in published.requests] == [
        (f"GET {LIMIT}", 200),
        (f"POST {CREATE}", 200),
        (f"GET {V}/{container_id}", 200),
        (f"POST {PUBLISH}", 200),
        (f"GET {V}/{media['id']}", 200),
    ]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake.requests)
    # The container was saved before it was published, then the media id.
    assert stages.saved[0]["parts"][0]["container"] == container_id
    assert "media_id" not in stages.saved[0]["parts"][0]
    assert stages.last["parts"][0]["media_id"] == media["id"]


def test_publish_waits_for_a_container_in_progress(fake):
    fake.processing_polls = 2
    published, _stages = publish(client_for(fake), Content(text="Patience"))
    container_id = next(iter(fake.containers))
    polls = [r for r in fake.requests if r.path == f"{V}/{container_id}"]
    assert len(polls) == 3 and polls[0].arg("fields") == "status,error_message"
    assert len(fake.publish_requests()) == 1  # only once FINISHED
    assert published.remote_id == fake.media[0]["id"]


def test_a_container_still_processing_is_kept_for_the_next_attempt(fake):
    fake.processing_polls = 100
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Plus tard"), stages)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.RETRY_LATER, "media_processing")
    assert caught.value.requests[1][0] == f"POST {CREATE}"  # for the delivery log
    container_id = stages.last["parts"][0]["container"]
    fake.containers[container_id]["polls_left"] = 0
    published, _stages = publish(client_for(fake), Content(text="Plus tard"), stages)
    assert len(fake.container_requests()) == 1  # the same container, published
    assert fake.media[0]["container"] == container_id
    assert published.remote_id == fake.media[0]["id"]


def test_a_thread_chains_each_part_to_the_previous_one(fake):
    content = Content(text="1/3 Notre atelier", thread=["2/3 Les outils", "", "3/3 À bientôt"])
    published, stages = publish(client_for(fake), content)
    root, second, third = fake.media
    assert [m["text"] for m in fake.media] == [
        "1/3 Notre atelier",
        "2/3 Les outils",
        "3/3 À bientôt",
    ]
    assert (root["reply_to"], second["reply_to"], third["reply_to"]) == (
        None,
        root["id"],
        second["id"],
    )
    assert third["root"] == root["id"]
    assert published.remote_id == root["id"] and published.url == root["permalink"]
    creates = fake.container_requests()
    assert "reply_to_id" not in parse_qs(creates[0].body.decode())
    assert parse_qs(creates[2].body.decode())["reply_to_id"] == [second["id"]]
    # Each part's container was saved before its publication, each media id before the next.
    part_two_saves = [s for s in stages.saved if len(s["parts"]) > 1 and s["parts"][1]]
    assert "media_id" not in part_two_saves[0]["parts"][1]
    assert part_two_saves[0]["parts"][0]["media_id"] == root["id"]
    assert fake.stats() == {"posts": 3, "replies": 2, "containers": 3, "duplicates": []}
    assert send("GET", fake.url("/_fake/stats")).json() == fake.stats()


def test_a_resumed_thread_publishes_only_the_missing_parts(fake):
    content = Content(text="Premier", thread=["Deuxième", "Troisième"])
    # Threads fails on the second part's container (3 requests match the prefix before it).
    fake.pass_through(times=3, path=CREATE)
    fake.fail(500, path=CREATE)
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content, stages)
    assert caught.value.kind == ErrorKind.RETRY_LATER
    assert [m["text"] for m in fake.media] == ["Premier"]
    assert stages.last["parts"][0]["media_id"] == fake.media[0]["id"]

    published, _stages = publish(client_for(fake), content, stages)
    assert [m["text"] for m in fake.media] == ["Premier", "Deuxième", "Troisième"]
    assert published.remote_id == fake.media[0]["id"]
    assert fake.media[1]["reply_to"] == fake.media[0]["id"]
    assert len(fake.container_requests()) == 4  # the failed one, then parts two and three
    assert fake.duplicates() == []


def test_a_finished_container_of_an_earlier_attempt_is_published_not_made_again(fake):
    container_id = fake.new_container("Déjà prêt")
    stage = {"parts": [{"container": container_id, "created_at": datetime.now(UTC).isoformat()}]}
    stages = Stages()
    stages(stage)
    published, _stages = publish(client_for(fake), Content(text="Déjà prêt"), stages)
    assert fake.container_requests() == []
    [request] = fake.publish_requests()
    assert parse_qs(request.body.decode()) == {"creation_id": [container_id]}
    assert published.remote_id == fake.media[0]["id"]


def test_an_expired_container_is_replaced(fake):
    container_id = fake.new_container("Expiré")
    fake.expire(container_id)
    stages = Stages()
    stages({"parts": [{"container": container_id}]})
    publish(client_for(fake), Content(text="Expiré"), stages)
    [media] = fake.media
    assert media["container"] != container_id
    assert len(fake.container_requests()) == 1
    assert fake.containers[container_id]["media_id"] is None


def test_a_container_in_error_needs_editing_with_meta_s_words(fake):
    fake.container_error = "The link in the text is blocked"
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="https://spam.example"), stages)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.FIX_CONTENT, "container_error")
    assert "The link in the text is blocked" in caught.value.message
    assert fake.publish_requests() == [] and fake.media == []


def test_an_image_with_alt_text_is_downloaded_by_threads_from_tribu(fake, served, settings):
    [image] = write_images(served, 1)
    published, stages = publish(client_for(fake), Content(text="Notre vitrine", media=[image]))
    [create] = fake.container_requests()
    sent = {key: values[0] for key, values in parse_qs(create.body.decode()).items()}
    assert sent["media_type"] == "IMAGE" and sent["text"] == "Notre vitrine"
    assert sent["alt_text"] == "Un carré red"
    assert sent["image_url"].startswith(settings.TRIBU_BASE_URL + "/channels/media/")
    [fetch] = fake.fetches
    assert fetch["ok"] and fetch["url"] == sent["image_url"]
    assert fetch["sha256"] == image["sha256"] and fetch["content_type"] == "image/png"
    [media] = fake.media
    assert media["media_type"] == "IMAGE" and media["alt_text"] == "Un carré red"
    assert [i["sha256"] for i in media["images"]] == [image["sha256"]]
    assert published.remote_id == media["id"]
    assert "fetch_failures" not in stages.last


def test_an_image_alone_is_sent_without_text_and_found_again(fake, served):
    [image] = write_images(served, 1)
    since = datetime.now(UTC)
    published, _stages = publish(client_for(fake), Content(text="", media=[image]))
    [create] = fake.container_requests()
    assert set(parse_qs(create.body.decode())) == {"media_type", "image_url", "alt_text"}
    found = client_for(fake).find(Content(text="", media=[image]), stage={}, since=since)
    assert isinstance(found, Published) and found.remote_id == published.remote_id


def test_several_images_make_a_carousel(fake, served):
    media = write_images(served, 3)
    stages = Stages()
    published, _stages = publish(
        client_for(fake), Content(text="Trois carrés", media=media), stages
    )
    creates = [
        {key: values[0] for key, values in parse_qs(r.body.decode()).items()}
        for r in fake.container_requests()
    ]
    children = [c for c in creates if c.get("is_carousel_item") == "true"]
    assert [c["alt_text"] for c in children] == [m["alt"] for m in media]
    assert all(c["media_type"] == "IMAGE" and "text" not in c for c in children)
    parent = creates[-1]
    child_ids = stages.last["parts"][0]["children"]
    assert parent == {
        "media_type": "CAROUSEL",
        "children": ",".join(child_ids),
        "text": "Trois carrés",
    }
    # Each child id was saved before the next request.
    assert [len(s["parts"][0].get("children", [])) for s in stages.saved[:3]] == [1, 2, 3]
    [post] = fake.media
    assert post["media_type"] == "CAROUSEL_ALBUM" and post["alt_texts"] == [m["alt"] for m in media]
    assert [i["sha256"] for i in post["images"]] == [m["sha256"] for m in media]
    assert published.remote_id == post["id"]


def test_a_resumed_carousel_creates_only_the_missing_children(fake, served):
    media = write_images(served, 2)
    fake.pass_through(times=2, path=CREATE)  # the quota read, the first child
    fake.fail(503, path=CREATE)
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Deux", media=media), stages)
    assert caught.value.kind == ErrorKind.RETRY_LATER
    assert len(stages.last["parts"][0]["children"]) == 1
    publish(client_for(fake), Content(text="Deux", media=media), stages)
    assert len(fake.fetches) == 2  # each image downloaded once
    assert len(fake.containers) == 3 and len(fake.media) == 1


def test_a_failed_image_download_is_retried_then_needs_checking(fake, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.TRIBU_BASE_URL = closed_url()  # Threads cannot reach Tribu
    [image] = write_images(tmp_path, 1)
    stages = Stages()
    for attempt in (1, 2):
        with pytest.raises(PublishError) as caught:
            publish(client_for(fake), Content(text="Image", media=[image]), stages)
        assert (caught.value.kind, caught.value.code) == (
            ErrorKind.RETRY_LATER,
            "media_fetch_failed",
        )
        assert caught.value.retry_after == 60 and stages.last["fetch_failures"] == attempt
        assert "could not be fetched" in caught.value.detail
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Image", media=[image]), stages)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.FIX_CONTENT, "media_unreachable")
    assert "TRIBU_BASE_URL" in caught.value.message
    assert [f["ok"] for f in fake.fetches] == [False, False, False]
    assert fake.containers == {}


# --- refusals --------------------------------------------------------------------------


def test_text_over_500_threads_characters_needs_editing_before_any_call(fake):
    emoji = "😀" * 125  # 125 emoji of 4 bytes: 500
    publish(client_for(fake), Content(text=emoji))
    assert len(fake.media) == 1
    fake.requests.clear()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text=emoji + "!"))
    assert (caught.value.kind, caught.value.code, caught.value.sent) == (
        ErrorKind.FIX_CONTENT,
        "too_long",
        False,
    )
    assert "501" in caught.value.message
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="ok", thread=["x" * 501]))
    assert "Part 2" in caught.value.message
    assert fake.requests == []


def test_the_fake_counts_and_refuses_like_threads(fake):
    assert threads_count("é" * 10) == 10
    assert threads_count("😀") == 4 and threads_count("👨‍👩‍👧‍👦") == 25 and threads_count("©") == 1
    body = urlencode({"media_type": "TEXT", "text": "👍" * 126}).encode()
    answer = send(
        "POST",
        fake.url(CREATE),
        body=body,
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["message"] == "(#100) Param text must be at most 500 characters long."
    assert (error["type"], error["code"]) == ("OAuthException", 100) and error["fbtrace_id"]


def test_the_fake_refuses_a_second_publication_of_a_container(fake):
    container_id = fake.new_container("Une fois")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    first = send("POST", fake.url(f"{PUBLISH}?creation_id={container_id}"), headers=headers)
    second = send("POST", fake.url(f"{PUBLISH}?creation_id={container_id}"), headers=headers)
    assert first.status == 200 and second.status == 400
    assert second.json()["error"]["message"].endswith("already been published.")
    assert len(fake.media) == 1
    answer = send("GET", fake.url(f"{V}/{container_id}?fields=status,nope"), headers=headers)
    assert answer.status == 400 and "nonexisting field (nope)" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        ({"status": 401}, ErrorKind.REAUTH, "token_invalid"),
        ({"status": 403}, ErrorKind.FATAL, "forbidden"),
        ({"status": 500}, ErrorKind.RETRY_LATER, "server_error"),
        ({"status": 503}, ErrorKind.RETRY_LATER, "server_error"),
    ],
)
def test_answers_map_to_the_retry_taxonomy(fake, fault, kind, code):
    fake.fail(fault["status"], path=past_quota(fake, CREATE))
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Erreur"))
    assert (caught.value.kind, caught.value.code) == (kind, code)
    assert caught.value.status == fault["status"]
    assert fake.media == []


def test_a_revoked_or_expired_token_needs_reconnecting(fake):
    fake.revoke(TOKEN)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Révoqué"))
    assert (caught.value.kind, caught.value.status) == (ErrorKind.REAUTH, 400)
    assert caught.value.detail.startswith("190/460")
    fake.add_token("short", kind="short")
    fake.advance(2 * 3600)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake, token="short"), Content(text="Expiré"))
    assert caught.value.kind == ErrorKind.REAUTH and caught.value.detail.startswith("190/463")


def test_rate_limits_say_how_long_to_wait(fake):
    fake.fail(429, retry_after="120", path=past_quota(fake, CREATE))
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Vite"))
    assert (caught.value.kind, caught.value.retry_after) == (ErrorKind.RETRY_LATER, 120)
    fake.throttle(minutes=7, path=past_quota(fake, PUBLISH))
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Vite"), stages)
    assert (caught.value.code, caught.value.retry_after) == ("rate_limited", 420)
    # The container waits in the stage; the next attempt publishes it.
    publish(client_for(fake), Content(text="Vite"), stages)
    assert len(fake.media) == 1 and len(fake.containers) == 1
    assert len(fake.publish_requests()) == 2


def test_a_restricted_account_is_not_retried(fake):
    fake.restricted = True
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Restreint"))
    assert (caught.value.kind, caught.value.code) == (ErrorKind.FATAL, "forbidden")
    assert "2207051" in caught.value.detail


def test_a_full_quota_waits_before_creating_anything(fake):
    fake.quota_total = 1
    publish(client_for(fake), Content(text="Le seul de la journée"))
    fake.requests.clear()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Un de trop"))
    assert (caught.value.kind, caught.value.code) == (ErrorKind.RETRY_LATER, "quota_reached")
    assert caught.value.retry_after == 3600 and "(1)" in caught.value.message
    assert paths(fake) == [LIMIT]
    fake.advance(25 * 3600)  # the window slides
    publish(client_for(fake), Content(text="Un de trop"))
    assert len(fake.media) == 2


def test_a_thread_waits_when_its_replies_do_not_fit_the_quota(fake):
    fake.reply_quota_total = 1
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Début", thread=["Suite", "Fin"]))
    assert caught.value.code == "reply_quota_reached"
    assert fake.containers == {}  # nothing half-published


def test_malformed_answers(fake):
    fake.malformed(path=past_quota(fake, CREATE))
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Illisible"))
    assert (caught.value.kind, caught.value.code) == (ErrorKind.RETRY_LATER, "bad_answer")
    # An unreadable answer to threads_publish: the post may exist, so the outcome is
    # unknown. (The fake answered without publishing: the container tells.)
    fake.malformed(path=past_quota(fake, PUBLISH))
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Illisible"), stages)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.UNKNOWN, "bad_answer")
    found = client_for(fake).find(
        Content(text="Illisible"), stage=stages.last, since=datetime.now(UTC)
    )
    assert isinstance(found, NotFound) and fake.media == []
    publish(client_for(fake), Content(text="Illisible"), stages)
    assert len(fake.media) == 1 and len(fake.containers) == 1


# --- lost answers and find() -----------------------------------------------------------


def test_a_stalled_publish_is_settled_at_once_by_the_container(fake):
    content = Content(text="Réponse lente")
    fake.stall_after_processing(1.5, path=past_quota(fake, PUBLISH))
    published, stages = publish(client_for(fake, timeout=0.5), content)
    [media] = fake.media
    assert (published.remote_id, published.url) == (media["id"], media["permalink"])
    container_id = stages.last["parts"][0]["container"]
    assert [(request, status) for request, status, _ms in published.requests][3:6] == [
        (f"POST {PUBLISH}", None),  # no answer
        (f"GET {V}/{container_id}", 200),  # PUBLISHED
        (f"GET {CREATE}", 200),  # the post, by its text
    ]
    listing = [r for r in fake.requests if r.method == "GET" and r.path == CREATE][-1]
    assert (listing.arg("fields"), listing.arg("limit")) == ("id,text,timestamp,permalink", "10")
    assert len(fake.publish_requests()) == 1 and fake.duplicates() == []


def test_a_lost_answer_the_container_cannot_settle_is_unknown_then_found(fake):
    content = Content(text="Réponse perdue")
    since = datetime.now(UTC)
    fake.stall_after_processing(1.5, path=past_quota(fake, PUBLISH))
    fake.pass_through(path=CONTAINERS)  # the poll before publishing
    fake.fail(503, path=CONTAINERS)  # the status read after the lost answer
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake, timeout=0.5), content, stages)
    assert (caught.value.kind, caught.value.code, caught.value.sent) == (
        ErrorKind.UNKNOWN,
        "no_answer",
        True,
    )
    [media] = fake.media  # it did go out
    assert "media_id" not in stages.last["parts"][0]

    found = client_for(fake).find(content, stage=stages.last, since=since)
    assert isinstance(found, Published)
    assert (found.remote_id, found.url) == (media["id"], media["permalink"])
    assert [request for request, _status, _ms in found.requests] == [
        f"GET {V}/{stages.last['parts'][0]['container']}",
        f"GET {CREATE}",
    ]
    # Publishing again with the stage reads the container and publishes nothing.
    published, _stages = publish(client_for(fake), content, stages)
    assert published.remote_id == media["id"]
    assert len(fake.publish_requests()) == 1 and len(fake.container_requests()) == 1
    assert fake.stats()["posts"] == 1 and fake.duplicates() == []


def test_a_dropped_connection_after_publishing_is_settled(fake):
    fake.drop_after_processing(path=past_quota(fake, PUBLISH))
    published, _stages = publish(client_for(fake), Content(text="Connexion coupée"))
    assert published.remote_id == fake.media[0]["id"]
    assert len(fake.media) == 1


def test_a_lost_answer_mid_thread_goes_on_with_the_rest(fake):
    content = Content(text="Fil", thread=["Deuxième partie", "Troisième partie"])
    fake.pass_through(path=past_quota(fake, PUBLISH))  # the first part goes through
    fake.stall_after_processing(1.5, path=PUBLISH)
    published, _stages = publish(client_for(fake, timeout=0.5), content)
    root, second, third = fake.media
    assert published.remote_id == root["id"]
    assert (second["reply_to"], third["reply_to"]) == (root["id"], second["id"])
    replies = [r for r in fake.requests if r.path == f"{V}/{root['id']}/replies"]
    assert replies[0].arg("fields") == "id,text,timestamp,permalink,username"
    assert fake.duplicates() == []


def test_a_thread_part_not_confirmed_is_checked_before_it_is_tried_again(fake):
    content = Content(text="Fil", thread=["Suite"])
    fake.pass_through(path=past_quota(fake, PUBLISH))
    fake.malformed(path=PUBLISH)  # answered without publishing
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content, stages)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.RETRY_LATER, "part_unconfirmed")
    assert [m["text"] for m in fake.media] == ["Fil"]
    publish(client_for(fake), content, stages)
    assert [m["text"] for m in fake.media] == ["Fil", "Suite"]
    assert len(fake.container_requests()) == 2  # the part's container was reused


def test_a_part_is_told_apart_from_someone_else_s_reply_with_the_same_words(fake):
    content = Content(text="Fil", thread=["Deuxième partie"])
    _published, stages = publish(client_for(fake), content)
    root, part = fake.media
    fake.add_reply(root["id"], "quelqu.un", "Deuxième partie")  # newer, same words
    stage = json.loads(json.dumps(stages.last))
    del stage["parts"][1]["media_id"]  # as if its answer had been lost
    found = client_for(fake).find(content, stage=stage, since=datetime.now(UTC))
    assert isinstance(found, Published) and found.remote_id == root["id"]
    resumed = Stages()
    resumed(stage)
    publish(client_for(fake), content, resumed)
    assert resumed.last["parts"][1]["media_id"] == part["id"]
    assert len(fake.publish_requests()) == 2


def test_a_container_never_published_is_not_found_and_is_then_reused(fake):
    container_id = fake.new_container("Jamais publié")
    stage = {"parts": [{"container": container_id, "created_at": datetime.now(UTC).isoformat()}]}
    found = client_for(fake).find(Content(text="Jamais publié"), stage=stage, since=fake.now())
    assert isinstance(found, NotFound)
    stages = Stages()
    stages(stage)
    publish(client_for(fake), Content(text="Jamais publié"), stages)
    assert fake.container_requests() == [] and fake.media[0]["container"] == container_id


def test_find_without_a_stage_compares_the_latest_threads(fake):
    since = datetime.now(UTC)
    publish(client_for(fake), Content(text="Publié à la main"))
    found = client_for(fake).find(Content(text="Publié à la main"), stage={}, since=since)
    assert isinstance(found, Published) and found.url == fake.media[0]["permalink"]
    missing = client_for(fake).find(Content(text="Nulle part"), stage={}, since=since)
    assert isinstance(missing, NotFound)
    # Too old to be this delivery's post.
    old = client_for(fake).find(
        Content(text="Publié à la main"), stage={}, since=since + timedelta(hours=1)
    )
    assert isinstance(old, NotFound)


def test_find_a_half_published_thread_cannot_tell(fake):
    published, _stages = publish(client_for(fake), Content(text="Début du fil"))
    container_id = fake.new_container("Suite du fil")
    stage = {
        "parts": [
            {"container": fake.media[0]["container"], "media_id": published.remote_id},
            {"container": container_id},
        ]
    }
    found = client_for(fake).find(
        Content(text="Début du fil", thread=["Suite du fil"]), stage=stage, since=fake.now()
    )
    assert isinstance(found, CannotTell)
    assert "1" in found.reason and "2" in found.reason


def test_a_published_container_whose_post_is_not_listed_yet_waits(fake):
    content = Content(text="Pas encore listé")
    _published, stages = publish(client_for(fake), content)
    stage = {"parts": [{"container": stages.last["parts"][0]["container"]}]}
    fake.media[0]["text"] = "Edited on Threads"  # the listing no longer shows our words
    with pytest.raises(PublishError) as caught:
        client_for(fake).find(content, stage=stage, since=datetime.now(UTC))
    assert (caught.value.kind, caught.value.code) == (ErrorKind.RETRY_LATER, "not_listed_yet")
    resumed = Stages()
    resumed(stage)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content, resumed)
    assert caught.value.code == "not_listed_yet"
    assert len(fake.media) == 1 and len(fake.publish_requests()) == 1
