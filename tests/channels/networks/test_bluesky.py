"""The Bluesky client (tribu/channels/networks/bluesky.py) against the PDS fake
(tribu/testing/fakes/bluesky.py), over real HTTP on loopback."""

import io
import json
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from tribu.channels.networks.base import Content, ErrorKind, NotFound, Published, PublishError
from tribu.channels.networks.bluesky import BlueskyClient, jwt_expiry, new_tid, tid_time
from tribu.listening.fetch.http import send
from tribu.testing.fakes.bluesky import (
    DEFAULT_APP_PASSWORD,
    DEFAULT_DID,
    DEFAULT_HANDLE,
)
from tribu.testing.fakes.schemas import validate_lexicon
from tribu.testing.publishing import Stages

CREATE = "/xrpc/com.atproto.repo.createRecord"
GET = "/xrpc/com.atproto.repo.getRecord"
UPLOAD = "/xrpc/com.atproto.repo.uploadBlob"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
SESSION = "/xrpc/com.atproto.server.createSession"
POST = "app.bsky.feed.post"


@dataclass
class Channel:
    base_url: str
    account_id: str
    handle: str
    secret_values: dict
    limits: dict = field(default_factory=dict)
    name: str = "Tribu"


def connect(fake):
    return BlueskyClient.connect(
        fake.base_url, {"handle": DEFAULT_HANDLE, "app_password": DEFAULT_APP_PASSWORD}
    )


@pytest.fixture
def session(bluesky_fake):
    """A connected client and what it handed to on_secrets."""
    account = connect(bluesky_fake)
    stored = []
    channel = Channel(bluesky_fake.base_url, account.account_id, account.handle, account.secrets)
    return BlueskyClient(channel, on_secrets=stored.append, timeout=5), stored


@pytest.fixture
def client(session):
    return session[0]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def image_file(root, name, size=(40, 30), fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    (root / name).write_bytes(buffer.getvalue())
    return buffer.getvalue()


def publish(client, content, stages=None):
    stages = stages if stages is not None else Stages()
    return client.publish(
        content, idempotency_key="key-1", stage=stages.last, save_stage=stages
    ), stages


def paths(fake, prefix="/xrpc/"):
    return [request.path for request in fake.requests if request.path.startswith(prefix)]


def assert_valid_records(fake):
    for record in fake.records():
        validate_lexicon(record["value"], "app.bsky.feed.post")
    assert fake.duplicates() == []


# --- connecting --------------------------------------------------------------------------


def test_connect_describes_the_account(bluesky_fake):
    account = connect(bluesky_fake)
    assert account.account_id == DEFAULT_DID
    assert account.handle == DEFAULT_HANDLE
    assert account.name == "Tribu Test"  # from getProfile
    assert set(account.secrets) == {"handle", "app_password", "access_jwt", "refresh_jwt"}
    assert account.secrets["app_password"] == DEFAULT_APP_PASSWORD
    # token_expires_at is the access JWT's own `exp` (two hours on this PDS).
    expected = datetime.now(UTC) + timedelta(seconds=bluesky_fake.access_ttl)
    assert abs((account.token_expires_at - expected).total_seconds()) < 5
    assert account.token_expires_at == jwt_expiry(account.secrets["access_jwt"])
    assert paths(bluesky_fake).count(SESSION) == 1


def test_connect_accepts_an_at_sign_and_falls_back_to_the_handle(bluesky_fake):
    bluesky_fake.fail(502, path="/xrpc/app.bsky.actor.getProfile")
    account = BlueskyClient.connect(
        bluesky_fake.base_url,
        {"handle": "@" + DEFAULT_HANDLE, "app_password": DEFAULT_APP_PASSWORD},
    )
    assert account.name == DEFAULT_HANDLE
    assert account.account_id == DEFAULT_DID


def test_wrong_password_tells_to_create_an_app_password(bluesky_fake):
    with pytest.raises(PublishError) as caught:
        BlueskyClient.connect(
            bluesky_fake.base_url, {"handle": DEFAULT_HANDLE, "app_password": "nope"}
        )
    assert caught.value.kind == ErrorKind.REAUTH
    assert caught.value.code == "wrong_credentials"
    assert caught.value.status == 401
    assert "app password" in caught.value.message
    assert "Settings" in caught.value.message


def test_email_code_accounts_are_told_that_app_passwords_avoid_it(bluesky_fake):
    bluesky_fake.add_account(
        "secure.bsky.social", "app-pass", main_password="main-pass", email_auth_factor=True
    )
    with pytest.raises(PublishError) as caught:
        BlueskyClient.connect(
            bluesky_fake.base_url, {"handle": "secure.bsky.social", "app_password": "main-pass"}
        )
    assert caught.value.kind == ErrorKind.REAUTH
    assert caught.value.code == "two_factor_required"
    assert "app password" in caught.value.message
    # The app password of the same account works.
    account = BlueskyClient.connect(
        bluesky_fake.base_url, {"handle": "secure.bsky.social", "app_password": "app-pass"}
    )
    assert account.handle == "secure.bsky.social"


def test_sign_in_rate_limit_says_when_to_try_again(bluesky_fake):
    bluesky_fake.fail(429, retry_after="240", path=SESSION)
    with pytest.raises(PublishError) as caught:
        connect(bluesky_fake)
    assert caught.value.kind == ErrorKind.RETRY_LATER
    assert caught.value.retry_after == 240
    assert "4 minute" in caught.value.message


# --- the session -------------------------------------------------------------------------


def test_refresh_rotates_both_tokens_and_kills_the_old_refresh_token(session, bluesky_fake):
    client, stored = session
    old = dict(client.secrets)
    update = client.refresh()
    assert update.secrets["refresh_jwt"] != old["refresh_jwt"]
    assert update.secrets["access_jwt"] != old["access_jwt"]
    assert update.secrets["app_password"] == DEFAULT_APP_PASSWORD
    assert update.token_expires_at == jwt_expiry(update.secrets["access_jwt"])
    assert stored == [update.secrets]  # handed over at once, before anything else
    # The spent refresh token is refused by the PDS; the new one works.
    stale = send(
        "POST",
        bluesky_fake.url(REFRESH),
        headers={"Authorization": f"Bearer {old['refresh_jwt']}"},
    )
    assert stale.status == 400 and stale.json()["error"] == "ExpiredToken"
    fresh = send(
        "POST",
        bluesky_fake.url(REFRESH),
        headers={"Authorization": f"Bearer {update.secrets['refresh_jwt']}"},
    )
    assert fresh.status == 200
    validate_lexicon(fresh.json(), "com.atproto.server.refreshSession")
    assert bluesky_fake.sessions_created == 1  # refreshing never signs in again


def test_expired_token_mid_publish_refreshes_and_retries(session, bluesky_fake):
    client, stored = session
    bluesky_fake.expire_access_tokens()
    published, _stages = publish(client, Content(text="Bonjour"))
    assert paths(bluesky_fake)[-3:] == [CREATE, REFRESH, CREATE]
    assert len(bluesky_fake.records()) == 1
    assert published.remote_id == bluesky_fake.records()[0]["uri"]
    assert len(stored) == 1 and stored[0]["access_jwt"] == client.secrets["access_jwt"]
    assert bluesky_fake.sessions_created == 1


def test_a_token_past_its_exp_is_refreshed_before_the_call(bluesky_fake):
    bluesky_fake.access_ttl = -30  # every access JWT is born expired (by its `exp` claim)
    account = connect(bluesky_fake)
    channel = Channel(bluesky_fake.base_url, account.account_id, account.handle, account.secrets)
    bluesky_fake.access_ttl = 7200
    client = BlueskyClient(channel, timeout=5)
    publish(client, Content(text="À l'heure"))
    # No round trip to learn that the token expired.
    assert paths(bluesky_fake)[-2:] == [REFRESH, CREATE]


def test_a_dead_refresh_token_falls_back_to_the_app_password(session, bluesky_fake):
    client, stored = session
    client.secrets["refresh_jwt"] = "dead.refresh.token"
    bluesky_fake.expire_access_tokens()
    publish(client, Content(text="Encore là"))
    assert paths(bluesky_fake)[-4:] == [CREATE, REFRESH, SESSION, CREATE]
    assert stored[-1]["refresh_jwt"] != "dead.refresh.token"
    assert len(bluesky_fake.records()) == 1


def test_a_revoked_app_password_needs_reconnecting(session, bluesky_fake):
    client, _stored = session
    bluesky_fake.revoke_app_password(DEFAULT_HANDLE)
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="Trop tard"))
    assert caught.value.kind == ErrorKind.REAUTH
    assert caught.value.code == "session_expired"
    assert "app password" in caught.value.message
    assert bluesky_fake.records() == []


# --- publishing --------------------------------------------------------------------------


def test_publish_text_with_facets_language_and_a_fresh_created_at(client, bluesky_fake):
    bluesky_fake.add_handle("alice.example.com", "did:plc:alicealicealicealice00")
    text = (
        "Café ☕ et crêpes 🥞 avec @alice.example.com et @personne.example.org : "
        "https://tribu.example/été #Rentrée"
    )
    published, stages = publish(client, Content(text=text, language="fr"))
    [record] = bluesky_fake.records()
    value = record["value"]
    assert (
        published.remote_id
        == record["uri"]
        == f"at://{DEFAULT_DID}/app.bsky.feed.post/{record['rkey']}"
    )
    assert published.url == f"https://bsky.app/profile/{DEFAULT_HANDLE}/post/{record['rkey']}"
    assert value["text"] == text and value["langs"] == ["fr"]
    created = datetime.fromisoformat(value["createdAt"].replace("Z", "+00:00"))
    assert abs((created - datetime.now(UTC)).total_seconds()) < 10
    data = text.encode()
    covered = [
        (data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0])
        for f in value["facets"]
    ]
    assert covered == [
        (
            "@alice.example.com",
            {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alicealicealicealice00"},
        ),
        (
            "https://tribu.example/été",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://tribu.example/été"},
        ),
        ("#Rentrée", {"$type": "app.bsky.richtext.facet#tag", "tag": "Rentrée"}),
    ]
    # The key was a TID saved before createRecord, and is the record's key.
    assert stages.saved[0]["parts"][0]["rkey"] == record["rkey"]
    assert "cid" not in stages.saved[0]["parts"][0]
    assert tid_time(record["rkey"]) is not None
    assert [request for request, _status, _ms in published.requests][-1] == "POST " + CREATE
    assert_valid_records(bluesky_fake)


def test_images_with_alt_and_aspect_ratio(client, bluesky_fake, media_root):
    first = image_file(media_root, "une.png", (1200, 800))
    image_file(media_root, "deux.jpg", (300, 600), fmt="JPEG")
    media = [
        {"path": "une.png", "alt": "Une affiche rouge", "content_type": "image/png",
         "width": 1200, "height": 800},
        {"path": "deux.jpg", "alt": "", "content_type": "image/jpeg", "width": 300, "height": 600},
    ]  # fmt: skip
    published, stages = publish(client, Content(text="Deux images", media=media))
    [record] = bluesky_fake.records()
    embed = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [(image["alt"], image["aspectRatio"]) for image in embed["images"]] == [
        ("Une affiche rouge", {"width": 1200, "height": 800}),
        ("", {"width": 300, "height": 600}),
    ]
    assert [image["image"]["mimeType"] for image in embed["images"]] == ["image/png", "image/jpeg"]
    assert embed["images"][0]["image"]["size"] == len(first)
    uploads = [request for request in bluesky_fake.requests if request.path == UPLOAD]
    assert uploads[0].body == first and uploads[0].headers["content-type"] == "image/png"
    # Each blob was saved before the next upload, and before the record key.
    assert [len(stage["blobs"]) for stage in stages.saved[:3]] == [1, 2, 2]
    assert [bool(stage["parts"][0].get("rkey")) for stage in stages.saved[:3]] == [
        False,
        False,
        True,
    ]
    assert stages.last["blobs"] == [image["image"] for image in embed["images"]]
    assert published.remote_id == record["uri"]
    assert_valid_records(bluesky_fake)


def test_too_many_or_too_large_images_need_editing(client, bluesky_fake, media_root):
    (media_root / "big.png").write_bytes(b"\x89PNG" + b"0" * 2_000_001)
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="Lourd", media=[{"path": "big.png", "alt": "x"}]))
    assert caught.value.kind == ErrorKind.FIX_CONTENT
    assert caught.value.code == "media_too_large" and "2 MB" in caught.value.message
    image_file(media_root, "a.png")
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="Cinq", media=[{"path": "a.png", "alt": ""}] * 5))
    assert caught.value.code == "too_many_images"
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="Absente", media=[{"path": "absente.png", "alt": ""}]))
    assert caught.value.code == "media_missing"
    assert UPLOAD not in paths(bluesky_fake) and bluesky_fake.records() == []


def test_link_card_with_thumbnail(client, bluesky_fake, media_root):
    thumb = image_file(media_root, "carte.png", (600, 315))
    card = {
        "url": "https://tribu.example/blog",
        "title": "Le blog",
        "description": "Nouveautés de la rentrée",
        "image": "carte.png",
    }
    publish(client, Content(text="À lire", link_card=card))
    [record] = bluesky_fake.records()
    external = record["value"]["embed"]["external"]
    assert record["value"]["embed"]["$type"] == "app.bsky.embed.external"
    assert (external["uri"], external["title"], external["description"]) == (
        "https://tribu.example/blog",
        "Le blog",
        "Nouveautés de la rentrée",
    )
    assert external["thumb"]["size"] == len(thumb)
    assert_valid_records(bluesky_fake)


def test_link_card_thumbnail_over_a_megabyte_is_left_out(client, bluesky_fake, media_root):
    (media_root / "lourde.jpg").write_bytes(b"\xff\xd8" + b"0" * 1_000_000)
    card = {"url": "https://tribu.example/", "title": "T", "description": "", "image": "lourde.jpg"}
    publish(client, Content(text="Carte", link_card=card))
    [record] = bluesky_fake.records()
    assert "thumb" not in record["value"]["embed"]["external"]
    assert UPLOAD not in paths(bluesky_fake)


def test_thread_parts_reply_to_root_and_parent(client, bluesky_fake):
    published, stages = publish(
        client, Content(text="1/3 Début", thread=["2/3 Milieu", "3/3 Fin"], language="fr")
    )
    records = {record["value"]["text"]: record for record in bluesky_fake.records()}
    first, second, third = records["1/3 Début"], records["2/3 Milieu"], records["3/3 Fin"]
    assert "reply" not in first["value"]
    root = {"uri": first["uri"], "cid": first["cid"]}
    assert second["value"]["reply"] == {"root": root, "parent": root}
    assert third["value"]["reply"] == {
        "root": root,
        "parent": {"uri": second["uri"], "cid": second["cid"]},
    }
    assert published.remote_id == first["uri"]
    assert [part["rkey"] for part in stages.last["parts"]] == [
        first["rkey"],
        second["rkey"],
        third["rkey"],
    ]
    assert_valid_records(bluesky_fake)


def test_thread_resumes_from_the_saved_stage(client, bluesky_fake):
    content = Content(text="1/3 Début", thread=["2/3 Milieu", "3/3 Fin"])
    bluesky_fake.pass_through(path=CREATE)
    bluesky_fake.fail(503, path=CREATE)  # the second part: the PDS is down, nothing stored
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client, content, stages)
    assert caught.value.kind == ErrorKind.RETRY_LATER
    assert caught.value.code == "not_created"  # checked with getRecord, not guessed
    saved_key = stages.last["parts"][1]["rkey"]
    assert [record["value"]["text"] for record in bluesky_fake.records()] == ["1/3 Début"]
    before = len(paths(bluesky_fake))
    publish(client, content, stages)
    resumed = paths(bluesky_fake)[before:]
    # The first part is known (uri and cid saved): only the missing parts are sent.
    assert resumed == [GET, CREATE, CREATE]
    texts = sorted(record["value"]["text"] for record in bluesky_fake.records())
    assert texts == ["1/3 Début", "2/3 Milieu", "3/3 Fin"]
    assert bluesky_fake.posts_with_text("2/3 Milieu")[0]["rkey"] == saved_key
    assert_valid_records(bluesky_fake)


# --- exactly once ------------------------------------------------------------------------


def test_a_lost_answer_is_settled_with_get_record(bluesky_fake):
    account = connect(bluesky_fake)
    channel = Channel(bluesky_fake.base_url, account.account_id, account.handle, account.secrets)
    client = BlueskyClient(channel, timeout=0.5)
    bluesky_fake.stall_after_processing(1.5, path=CREATE)
    published, _stages = publish(client, Content(text="Lent"))
    [record] = bluesky_fake.records()
    assert published.remote_id == record["uri"]
    assert paths(bluesky_fake)[-2:] == [CREATE, GET]
    assert [status for _request, status, _ms in published.requests][-2:] == [None, 200]


def test_stalled_create_then_publish_again_makes_one_record(bluesky_fake):
    account = connect(bluesky_fake)
    channel = Channel(bluesky_fake.base_url, account.account_id, account.handle, account.secrets)
    client = BlueskyClient(channel, timeout=0.5)
    bluesky_fake.stall_after_processing(1.5, path=CREATE)
    bluesky_fake.fail(503, path=GET)  # and the check fails too
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="Une seule fois"), stages)
    assert caught.value.kind == ErrorKind.UNKNOWN
    assert caught.value.sent is True
    assert "cannot create a duplicate" in caught.value.message
    published, _stages = publish(client, Content(text="Une seule fois"), stages)
    [record] = bluesky_fake.posts_with_text("Une seule fois")
    assert published.remote_id == record["uri"]
    assert paths(bluesky_fake).count(CREATE) == 1  # found, never sent twice
    assert bluesky_fake.duplicates() == []


def test_an_existing_key_answers_500_and_is_found(client, bluesky_fake):
    # Another worker created the record with our key after our first getRecord.
    rkey = new_tid()
    answer = send(
        "POST",
        bluesky_fake.url(CREATE),
        body=json.dumps(
            {
                "repo": DEFAULT_DID,
                "collection": "app.bsky.feed.post",
                "rkey": rkey,
                "record": {
                    "$type": "app.bsky.feed.post",
                    "text": "Course",
                    "createdAt": "2026-03-01T09:00:00.000Z",
                },
            }
        ).encode(),
        headers={
            "Authorization": f"Bearer {client.secrets['access_jwt']}",
            "Content-Type": "application/json",
        },
    )
    assert answer.status == 200
    bluesky_fake.respond_raw(
        b'{"error": "RecordNotFound", "message": "Could not locate record"}', status=400, path=GET
    )
    stages = Stages()
    stages({"parts": [{"rkey": rkey}]})
    published, _stages = publish(client, Content(text="Course"), stages)
    assert bluesky_fake.conflicts == 1  # the PDS's 500
    assert published.remote_id.endswith("/" + rkey)
    assert len(bluesky_fake.records()) == 1


def test_a_500_without_the_record_is_retried_with_the_same_key(client, bluesky_fake):
    bluesky_fake.fail(500, path=CREATE)
    stages = Stages()
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="Deuxième essai"), stages)
    assert caught.value.kind == ErrorKind.RETRY_LATER and caught.value.code == "not_created"
    key = stages.last["parts"][0]["rkey"]
    publish(client, Content(text="Deuxième essai"), stages)
    [record] = bluesky_fake.records()
    assert record["rkey"] == key


def test_a_dropped_connection_is_resolved_with_get_record(client, bluesky_fake):
    bluesky_fake.drop_after_processing(path=CREATE)
    published, stages = publish(client, Content(text="Coupé"))
    [record] = bluesky_fake.records()
    assert published.remote_id == record["uri"]
    assert stages.last["parts"][0]["cid"] == record["cid"]
    assert paths(bluesky_fake)[-2:] == [CREATE, GET]


def test_an_old_key_confirmed_absent_is_replaced(client, bluesky_fake):
    old_key = new_tid()
    long_ago = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    stages = Stages()
    stages({"parts": [{"rkey": old_key, "sent_at": long_ago}]})
    publish(client, Content(text="Plus tard"), stages)
    [record] = bluesky_fake.records()
    assert record["rkey"] != old_key  # the AppView indexes keys close to their time
    assert abs((tid_time(record["rkey"]) - datetime.now(UTC)).total_seconds()) < 10
    # A recent key (or one without a send time) is kept.
    recent = new_tid()
    stages = Stages()
    stages({"parts": [{"rkey": recent, "sent_at": datetime.now(UTC).isoformat()}]})
    publish(client, Content(text="Tout de suite"), stages)
    assert bluesky_fake.posts_with_text("Tout de suite")[0]["rkey"] == recent


def test_blobs_deleted_by_the_pds_are_uploaded_again(client, bluesky_fake, media_root):
    image_file(media_root, "photo.png")
    content = Content(text="Photo", media=[{"path": "photo.png", "alt": "Photo"}])
    bluesky_fake.fail(503, path=CREATE)
    stages = Stages()
    with pytest.raises(PublishError):
        publish(client, content, stages)
    bluesky_fake.forget_blobs()  # unused blobs are garbage-collected by the PDS
    publish(client, content, stages)
    assert len(bluesky_fake.records()) == 1
    assert paths(bluesky_fake).count(UPLOAD) == 2
    assert_valid_records(bluesky_fake)


# --- errors ------------------------------------------------------------------------------


def test_rate_limit_reset_gives_the_wait(client, bluesky_fake):
    reset = int(datetime.now(UTC).timestamp()) + 120
    bluesky_fake.fail(429, path=CREATE, headers={"RateLimit-Reset": str(reset)})
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="Vite"))
    assert caught.value.kind == ErrorKind.RETRY_LATER
    assert caught.value.code == "rate_limited"
    assert 115 <= caught.value.retry_after <= 121
    assert bluesky_fake.records() == []


def test_retry_after_wins_over_rate_limit_reset(client, bluesky_fake):
    bluesky_fake.fail(429, retry_after="30", path=CREATE, headers={"RateLimit-Reset": "1"})
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="Vite"))
    assert caught.value.retry_after == 30


def test_text_over_300_graphemes_needs_editing(client, bluesky_fake):
    # 300 graphemes of a two-code-point emoji (2,400 bytes) pass; one more does not.
    publish(client, Content(text="👍🏽" * 300))
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="👍🏽" * 301))
    assert caught.value.kind == ErrorKind.FIX_CONTENT
    assert caught.value.status == 400
    assert "300 graphemes" in caught.value.detail
    assert len(bluesky_fake.records()) == 1


def test_server_errors_other_than_create_are_retried(client, bluesky_fake, media_root):
    image_file(media_root, "p.png")
    bluesky_fake.fail(502, path=UPLOAD)
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="P", media=[{"path": "p.png", "alt": ""}]))
    assert caught.value.kind == ErrorKind.RETRY_LATER and caught.value.status == 502
    assert bluesky_fake.records() == []


def test_an_unreachable_pds_was_never_sent_to(session):
    client, _stored = session
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client.base_url = f"http://127.0.0.1:{port}"  # nothing listens there
    with pytest.raises(PublishError) as caught:
        publish(client, Content(text="Personne"))
    assert caught.value.kind == ErrorKind.RETRY_LATER
    assert caught.value.sent is False


# --- finding -----------------------------------------------------------------------------


def test_find_with_the_saved_key(client, bluesky_fake):
    content = Content(text="Trouvé", thread=["suite"])
    published, stages = publish(client, content)
    since = datetime.now(UTC) - timedelta(minutes=1)
    found = client.find(content, stage=stages.last, since=since)
    assert isinstance(found, Published) and found.remote_id == published.remote_id
    assert found.url == published.url
    missing = {"parts": [{"rkey": new_tid()}]}
    assert isinstance(client.find(content, stage=missing, since=since), NotFound)
    # A thread whose later part is missing: publishing again would finish it.
    partial = {"parts": [stages.last["parts"][0], {"rkey": new_tid()}]}
    assert isinstance(client.find(content, stage=partial, since=since), NotFound)


def test_find_without_a_key_compares_text_and_time(client, bluesky_fake):
    content = Content(text="Sans clé")
    published, _stages = publish(client, content)
    publish(client, Content(text="Autre chose"))
    now = datetime.now(UTC)
    found = client.find(content, stage={}, since=now - timedelta(minutes=2))
    assert isinstance(found, Published) and found.remote_id == published.remote_id
    # Five minutes of slack for clocks; beyond that, an older post is not ours.
    assert isinstance(client.find(content, stage={}, since=now + timedelta(minutes=4)), Published)
    assert isinstance(client.find(content, stage={}, since=now + timedelta(minutes=6)), NotFound)
    assert isinstance(client.find(Content(text="Jamais"), stage={}, since=now), NotFound)
    assert "/xrpc/com.atproto.repo.listRecords" in paths(bluesky_fake)


# --- the fake's own contract -------------------------------------------------------------


def test_fake_answers_match_the_lexicons(client, bluesky_fake, media_root):
    image_file(media_root, "l.png")
    published, _stages = publish(
        client, Content(text="Lexique", media=[{"path": "l.png", "alt": ""}])
    )
    rkey = published.remote_id.rsplit("/", 1)[1]
    base = bluesky_fake.base_url + "/xrpc/"
    checks = {
        "com.atproto.repo.getRecord": f"repo={DEFAULT_DID}&collection={POST}&rkey={rkey}",
        "com.atproto.repo.listRecords": f"repo={DEFAULT_DID}&collection={POST}",
        "com.atproto.identity.resolveHandle": f"handle={DEFAULT_HANDLE}",
        "app.bsky.actor.getProfile": f"actor={DEFAULT_DID}",
    }
    for nsid, query in checks.items():
        answer = send("GET", f"{base}{nsid}?{query}")
        assert answer.status == 200, nsid
        validate_lexicon(answer.json(), nsid)
    session = send(
        "POST",
        base + "com.atproto.server.createSession",
        body=json.dumps({"identifier": DEFAULT_HANDLE, "password": DEFAULT_APP_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    validate_lexicon(session.json(), "com.atproto.server.createSession")
    stats = send("GET", bluesky_fake.url("/_fake/stats")).json()
    assert stats == {"records": 1, "duplicates": [], "conflicts": 0, "sessions_created": 2}


def test_fake_refuses_records_outside_the_lexicon(client, bluesky_fake):
    def create(record, rkey=None):
        body = {"repo": DEFAULT_DID, "collection": "app.bsky.feed.post", "record": record}
        if rkey:
            body["rkey"] = rkey
        return send(
            "POST",
            bluesky_fake.url(CREATE),
            body=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {client.secrets['access_jwt']}",
                "Content-Type": "application/json",
            },
        )

    good = {"$type": "app.bsky.feed.post", "text": "ok", "createdAt": "2026-03-01T09:00:00Z"}
    assert create({**good, "invented": 1}).json()["error"] == "InvalidRequest"
    assert create({"$type": "app.bsky.feed.post", "text": "sans date"}).status == 400
    assert create({**good, "text": "é" * 1501}).status == 400  # 3,002 bytes
    assert create(good, rkey="not a tid").status == 400
    assert create(good, rkey="3kabcdefghijk").status == 200
    assert create(good, rkey="3kabcdefghijk").status == 500  # the reference PDS's answer
    missing_blob = {
        **good,
        "embed": {
            "$type": "app.bsky.embed.images",
            "images": [
                {
                    "alt": "",
                    "image": {"$type": "blob", "ref": {"$link": "bafkreinope"},
                              "mimeType": "image/png", "size": 3},
                }
            ],
        },
    }  # fmt: skip
    assert create(missing_blob).json()["error"] == "BlobNotFound"
    assert len(bluesky_fake.records()) == 1 and bluesky_fake.conflicts == 1
