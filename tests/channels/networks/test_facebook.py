"""The Facebook Pages client against the Meta Graph fake, over real HTTP on loopback."""

import io
import json
import socket
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
from PIL import Image

from tribu.channels.networks import facebook, http
from tribu.channels.networks.base import CannotTell, Content, NotFound, Published, PublishError
from tribu.testing.fakes.meta import (
    APP_ID,
    APP_SECRET,
    PAGE_ID,
    PAGE_NAME,
    PAGE_TOKEN,
    USER_TOKEN,
    VERSION,
    MetaGraphFake,
)
from tribu.testing.publishing import Stages

REDIRECT = "https://tribu.example/channels/meta/callback"
FEED = f"/{VERSION}/{PAGE_ID}/feed"
PHOTOS = f"/{VERSION}/{PAGE_ID}/photos"


@pytest.fixture(autouse=True)
def loopback(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def fake(settings):
    with MetaGraphFake() as server:
        settings.TRIBU_NETWORK_APPS = {
            "meta": {
                "client_id": APP_ID,
                "client_secret": APP_SECRET,
                "api_url": server.base_url,
                "auth_url": server.base_url,
                "version": VERSION,
            }
        }
        yield server


@pytest.fixture
def app(fake):
    return http.app_for("meta")


def client_for(fake, *, token=PAGE_TOKEN, page_id=PAGE_ID, timeout=None):
    channel = SimpleNamespace(
        base_url=fake.base_url,
        account_id=page_id,
        handle=PAGE_NAME,
        secret_values={"access_token": token, "page_id": page_id},
        limits={},
    )
    return facebook.FacebookClient(channel, timeout=timeout)


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


def authorize(url):
    response = urllib3.request("GET", url, redirect=False)
    assert response.status == 302, response.data
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert location.fragment == "_=_"  # Facebook's own mark on its redirects
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def closed_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def labels(log):
    return [(request, status) for request, status, _ms in log]


# --- OAuth -------------------------------------------------------------------------------


def test_oauth_gives_page_accounts_with_their_page_tokens(fake, app):
    other = fake.add_page("Acme Lyon")
    fake.add_page("Acme Stats", tasks=["ANALYZE"])  # no right to publish: left out
    url = facebook.FacebookClient.authorization_url(app, REDIRECT, "state-1", "challenge")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path == f"/{VERSION}/dialog/oauth"
    assert query["client_id"] == [APP_ID]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["state"] == ["state-1"]
    assert query["response_type"] == ["code"]
    assert query["scope"] == [",".join(facebook.SCOPES)]
    assert "code_challenge" not in query  # no PKCE for a server app (meta.py)

    answer = authorize(url)
    assert answer["state"] == "state-1"
    before = datetime.now(UTC)
    grant = facebook.FacebookClient.exchange_code(app, REDIRECT, answer["code"], "verifier")
    exchanges = fake.calls("GET", "/oauth/access_token")
    assert [r.arg("grant_type") for r in exchanges] == [None, "fb_exchange_token"]
    assert exchanges[0].arg("code") == answer["code"]
    assert exchanges[0].arg("redirect_uri") == REDIRECT
    assert exchanges[1].arg("fb_exchange_token") not in (None, grant["access_token"])
    assert fake.tokens[grant["access_token"]]["long_lived"] is True
    expires = datetime.fromisoformat(grant["expires_at"])
    assert before + timedelta(days=59) < expires < before + timedelta(days=61)

    accounts = facebook.FacebookClient.accounts(app, grant)
    assert [a.account_id for a in accounts] == [PAGE_ID, other["id"]]
    page = accounts[0]
    assert (page.name, page.handle, page.account_kind) == (PAGE_NAME, PAGE_NAME, "page")
    assert page.avatar_url.startswith("https://")
    assert page.token_expires_at is None and page.consent_expires_at is None
    token = page.secrets["access_token"]
    assert page.secrets["page_id"] == PAGE_ID
    assert token != grant["access_token"]  # the Page token, never the user token
    assert fake.tokens[token]["kind"] == "page" and fake.tokens[token]["expires_at"] is None
    # The Page token publishes as the Page.
    published = publish(client_for(fake, token=token), Content(text="Via Facebook Login"))
    assert published.remote_id.startswith(f"{PAGE_ID}_")


def test_accounts_follow_the_pages_of_me_accounts(fake, app):
    for number in range(30):
        fake.add_page(f"Store {number}")
    accounts = facebook.FacebookClient.accounts(app, {"access_token": USER_TOKEN})
    assert len(accounts) == 31
    assert len({a.account_id for a in accounts}) == 31
    assert len(fake.calls("GET", "/me/accounts")) == 2


def test_a_refusal_in_the_dialog_comes_back_as_access_denied(fake, app):
    fake.deny_next = True
    url = facebook.FacebookClient.authorization_url(app, REDIRECT, "s", "")
    answer = authorize(url)
    assert answer["error"] == "access_denied" and answer["state"] == "s"
    assert "code" not in answer


def test_exchange_refusals_say_who_must_act(fake, app, settings):
    code = authorize(facebook.FacebookClient.authorization_url(app, REDIRECT, "s", ""))["code"]
    with pytest.raises(PublishError) as caught:
        facebook.FacebookClient.exchange_code(app, "https://elsewhere.example/cb", code, "")
    assert (caught.value.kind, caught.value.code) == ("reauth", "invalid_grant")
    assert "36008" in caught.value.detail
    facebook.FacebookClient.exchange_code(app, REDIRECT, code, "")
    with pytest.raises(PublishError) as caught:  # a code works once
        facebook.FacebookClient.exchange_code(app, REDIRECT, code, "")
    assert caught.value.code == "invalid_grant"
    assert "used" in caught.value.message

    settings.TRIBU_NETWORK_APPS = {
        "meta": {**settings.TRIBU_NETWORK_APPS["meta"], "client_secret": "wrong"}
    }
    with pytest.raises(PublishError) as caught:
        facebook.FacebookClient.exchange_code(http.app_for("meta"), REDIRECT, "x", "")
    assert (caught.value.kind, caught.value.code) == ("fatal", "app_refused")
    assert "TRIBU_META_CLIENT_SECRET" in caught.value.message


# --- connect with a pasted token -----------------------------------------------------------


def test_connect_with_a_page_token_uses_it(fake):
    account = facebook.FacebookClient.connect(fake.base_url, {"access_token": PAGE_TOKEN})
    assert (account.account_id, account.name, account.account_kind) == (PAGE_ID, PAGE_NAME, "page")
    assert account.secrets == {"access_token": PAGE_TOKEN, "page_id": PAGE_ID}
    assert not fake.calls("GET", "/me/accounts")
    [me] = fake.calls("GET", "/me")
    assert me.arg("metadata") == "1"
    assert me.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert "access_token" not in me.args  # never in a logged query


def test_connect_with_a_page_token_of_another_page_is_refused(fake):
    with pytest.raises(PublishError) as caught:
        facebook.FacebookClient.connect(
            fake.base_url, {"access_token": PAGE_TOKEN, "account_id": "999"}
        )
    assert (caught.value.kind, caught.value.code) == ("fix_content", "account_not_found")
    assert f"{PAGE_ID} ({PAGE_NAME})" in caught.value.message


def test_connect_with_a_user_token_makes_it_long_lived_and_keeps_the_page_token(fake):
    account = facebook.FacebookClient.connect(fake.base_url, {"access_token": USER_TOKEN})
    assert account.account_id == PAGE_ID
    token = account.secrets["access_token"]
    assert token != USER_TOKEN and fake.tokens[token]["kind"] == "page"
    [exchange] = fake.calls("GET", "/oauth/access_token")
    assert exchange.arg("grant_type") == "fb_exchange_token"
    assert exchange.arg("fb_exchange_token") == USER_TOKEN
    assert fake.tokens[token]["expires_at"] is None


def test_connect_with_a_user_token_of_several_pages_asks_which(fake):
    other = fake.add_page("Acme Lyon")
    with pytest.raises(PublishError) as caught:
        facebook.FacebookClient.connect(fake.base_url, {"access_token": USER_TOKEN})
    assert (caught.value.kind, caught.value.code) == ("fix_content", "choose_account")
    assert f"{PAGE_ID} ({PAGE_NAME})" in caught.value.message
    assert f"{other['id']} (Acme Lyon)" in caught.value.message
    account = facebook.FacebookClient.connect(
        fake.base_url, {"access_token": USER_TOKEN, "account_id": other["id"]}
    )
    assert account.account_id == other["id"] and account.name == "Acme Lyon"
    assert fake.tokens[account.secrets["access_token"]]["page_id"] == other["id"]


def test_connect_without_a_page_to_publish_on_is_fatal(fake):
    user = fake.add_user("Bob", token="bob-token")
    fake.add_page("Read only", tasks=["ANALYZE"], user=user)
    with pytest.raises(PublishError) as caught:
        facebook.FacebookClient.connect(fake.base_url, {"access_token": "bob-token"})
    assert (caught.value.kind, caught.value.code) == ("fatal", "no_pages")


def test_connect_with_a_dead_token_asks_to_reconnect(fake):
    fake.expire(PAGE_TOKEN)
    with pytest.raises(PublishError) as caught:
        facebook.FacebookClient.connect(fake.base_url, {"access_token": PAGE_TOKEN})
    assert (caught.value.kind, caught.value.code) == ("reauth", "token_invalid")
    assert "190/463" in caught.value.detail
    with pytest.raises(PublishError) as caught:
        facebook.FacebookClient.connect(fake.base_url, {"access_token": ""})
    assert caught.value.code == "token_missing" and not caught.value.sent


def test_page_tokens_need_no_refresh(fake):
    assert client_for(fake).refresh() is None


# --- publish -------------------------------------------------------------------------------


def test_publish_text_on_the_page_feed(fake):
    stages = Stages()
    published = publish(client_for(fake), Content(text="Bonjour la tribu"), stages=stages)
    [post] = fake.posts
    assert isinstance(published, Published)
    assert published.remote_id == post["id"] and post["id"].startswith(f"{PAGE_ID}_")
    assert published.url == post["permalink_url"]
    assert labels(published.requests) == [
        (f"POST {FEED}", 200),
        (f"GET /{VERSION}/{post['id']}", 200),
    ]
    [request] = fake.calls("POST", "/feed")
    assert request.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert parse_qs(request.body.decode()) == {"message": ["Bonjour la tribu"]}
    assert stages.saved == [{"post_id": post["id"]}]


def test_a_link_is_sent_for_facebooks_preview(fake):
    publish(client_for(fake), Content(text="Lisez https://acme.example/blog/1 ce matin"))
    publish(
        client_for(fake),
        Content(text="Notre article", link_card={"url": "https://acme.example/a", "title": "A"}),
    )
    assert [post["link"] for post in fake.posts] == [
        "https://acme.example/blog/1",
        "https://acme.example/a",
    ]


def test_one_image_is_a_published_photo_with_its_alt_text(fake, images):
    stages = Stages()
    published = publish(client_for(fake), Content(text="Un carré", media=images[:1]), stages=stages)
    [upload] = fake.calls("POST", "/photos")
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert png("red") in upload.body
    [photo] = fake.photos.values()
    assert photo["published"] and photo["alt"] == "A red square"
    assert photo["filename"] == "a.png" and photo["content_type"] == "image/png"
    [post] = fake.posts
    assert post["message"] == "Un carré" and post["photo_ids"] == [photo["id"]]
    assert published.remote_id == post["id"] == photo["post_id"]
    assert not fake.calls("POST", "/feed")
    assert stages.saved == [{"post_id": post["id"]}]


def test_several_images_are_unpublished_photos_attached_to_one_post(fake, images):
    stages = Stages()
    published = publish(client_for(fake), Content(text="Deux carrés", media=images), stages=stages)
    photos = list(fake.photos.values())
    assert [(p["published"], p["alt"]) for p in photos] == [
        (False, "A red square"),
        (False, "Un carré bleu"),
    ]
    [post] = fake.posts
    assert post["photo_ids"] == [p["id"] for p in photos]
    assert all(p["post_id"] == post["id"] for p in photos)
    [feed] = fake.calls("POST", "/feed")
    form = parse_qs(feed.body.decode())
    assert [
        json.loads(value)
        for key in sorted(form)
        if key.startswith("attached_media")
        for value in form[key]
    ] == [
        {"media_fbid": photos[0]["id"]},
        {"media_fbid": photos[1]["id"]},
    ]
    ids = [p["id"] for p in photos]
    assert stages.saved == [
        {"photo_ids": ids[:1]},
        {"photo_ids": ids},
        {"photo_ids": ids, "post_id": post["id"]},
    ]
    assert published.remote_id == post["id"]


def test_a_resumed_attempt_uploads_only_the_missing_photos(fake, images):
    stages = Stages()
    fake.pass_through(path=PHOTOS)  # the first photo goes through…
    fake.fail(500, path=PHOTOS)  # … the second does not
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Reprise", media=images), stages=stages)
    assert caught.value.kind == "retry_later"
    assert labels(caught.value.requests) == [(f"POST {PHOTOS}", 200), (f"POST {PHOTOS}", 500)]
    assert len(fake.photos) == 1 and stages.last == {"photo_ids": list(fake.photos)}

    publish(client_for(fake), Content(text="Reprise", media=images), stage=stages.last)
    assert len(fake.calls("POST", "/photos")) == 3  # 1 + the failed one + the missing one
    assert len(fake.photos) == 2
    [post] = fake.posts
    assert post["photo_ids"] == list(fake.photos)


def test_first_comment_is_posted_as_the_page(fake):
    stages = Stages()
    content = Content(text="Avec commentaire", first_comment="Le lien : https://acme.example")
    published = publish(client_for(fake), content, stages=stages)
    [post] = fake.posts
    [comment] = post["comments"]
    assert comment["message"] == "Le lien : https://acme.example"
    assert comment["from"] == PAGE_ID and comment["id"].startswith(post["id"] + "_")
    assert labels(published.requests)[-1] == (f"POST /{VERSION}/{post['id']}/comments", 200)
    # The post and its address were saved before the comment left.
    assert stages.last == {"post_id": post["id"], "url": post["permalink_url"]}


def test_a_comment_that_fails_for_now_is_the_only_thing_resumed(fake):
    stages = Stages()
    content = Content(text="Commentaire plus tard", first_comment="Premier !")
    fake.pass_through(path=f"/{VERSION}/{PAGE_ID}_")  # the permalink read
    fake.fail(500, path=f"/{VERSION}/{PAGE_ID}_")  # the comment
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content, stages=stages)
    assert caught.value.kind == "retry_later"
    [post] = fake.posts
    assert post["comments"] == []
    published = publish(client_for(fake), content, stage=stages.last)
    assert published.remote_id == post["id"] and published.url == post["permalink_url"]
    assert labels(published.requests) == [(f"POST /{VERSION}/{post['id']}/comments", 200)]
    assert len(post["comments"]) == 1
    assert len(fake.calls("POST", "/feed")) == 1


def test_a_refused_first_comment_leaves_the_post_published(fake):
    fake.remove_scope(PAGE_TOKEN, "pages_manage_engagement")
    published = publish(client_for(fake), Content(text="Sans commentaire", first_comment="Non"))
    [post] = fake.posts
    assert published.remote_id == post["id"] and post["comments"] == []
    assert labels(published.requests)[-1] == (f"POST /{VERSION}/{post['id']}/comments", 403)
    # The team is told to add it by hand, with the post's address.
    [warning] = published.warnings
    assert "first comment could not be added" in warning and post["permalink_url"] in warning


def test_a_stage_with_the_post_only_adds_the_comment(fake):
    publish(client_for(fake), Content(text="Déjà là"))
    [post] = fake.posts
    stage = {"post_id": post["id"], "url": post["permalink_url"]}
    published = publish(
        client_for(fake), Content(text="Déjà là", first_comment="Et un commentaire"), stage=stage
    )
    assert published.remote_id == post["id"] and len(fake.posts) == 1
    assert labels(published.requests) == [(f"POST /{VERSION}/{post['id']}/comments", 200)]


# --- errors --------------------------------------------------------------------------------


def test_the_user_token_cannot_post_on_the_page(fake):
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake, token=USER_TOKEN), Content(text="Avec le jeton utilisateur"))
    assert (caught.value.kind, caught.value.code, caught.value.status) == (
        "fatal",
        "forbidden",
        403,
    )
    assert "pages_manage_posts" in caught.value.detail
    assert fake.posts == []


@pytest.mark.parametrize(
    ("kill", "subcode"),
    [(lambda f: f.expire(PAGE_TOKEN), 463), (lambda f: f.revoke(USER_TOKEN), 460)],
)
def test_dead_page_tokens_need_reconnecting(fake, kill, subcode):
    kill(fake)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Jeton mort"))
    assert (caught.value.kind, caught.value.code) == ("reauth", "token_invalid")
    assert caught.value.detail.startswith(f"190/{subcode}: ")


def test_a_401_needs_reconnecting(fake):
    fake.fail(401, path=FEED)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="401"))
    assert caught.value.kind == "reauth"


@pytest.mark.parametrize(("code", "minutes"), [(32, 7), (80001, 3)])
def test_throttling_waits_as_meta_says(fake, code, minutes):
    fake.throttle(code=code, minutes=minutes, path=FEED)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Trop vite"))
    assert (caught.value.kind, caught.value.code) == ("retry_later", "rate_limited")
    assert caught.value.retry_after == minutes * 60
    assert fake.posts == []


def test_server_errors_are_retried_later(fake):
    fake.fail(500, path=FEED)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Panne"))
    assert (caught.value.kind, caught.value.code, caught.value.status) == (
        "retry_later",
        "server_error",
        500,
    )


def test_content_facebook_would_refuse_is_caught_before_any_call(fake):
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="x" * 63207))
    assert (caught.value.kind, caught.value.code, caught.value.sent) == (
        "fix_content",
        "too_long",
        False,
    )
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="", media=[]))
    assert caught.value.code == "empty"
    assert fake.requests == []


def test_a_photo_facebook_refuses_needs_a_fix(fake, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "big.png").write_bytes(png(size=(8, 6)) + b"\0" * (4 * 1024 * 1024))
    item = {"path": "posts/big.png", "alt": "", "content_type": "image/png"}  # size unknown
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Trop lourde", media=[item]))
    assert (caught.value.kind, caught.value.code) == ("fix_content", "rejected")
    assert "less than 4 MB" in caught.value.message
    assert fake.posts == []


def test_a_lost_answer_is_unknown_then_found(fake):
    fake.stall_after_processing(1.0, path=FEED)
    started = datetime.now(UTC)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake, timeout=0.3), Content(text="Réponse perdue"))
    assert (caught.value.kind, caught.value.code) == ("unknown", "no_answer")
    [post] = fake.posts_with_text("Réponse perdue")
    found = client_for(fake).find(Content(text="Réponse perdue"), stage={}, since=started)
    assert isinstance(found, Published)
    assert (found.remote_id, found.url) == (post["id"], post["permalink_url"])
    assert labels(found.requests) == [(f"GET /{VERSION}/{PAGE_ID}/published_posts", 200)]
    [listing] = fake.calls("GET", "/published_posts")
    assert listing.arg("fields") == "id,message,created_time,permalink_url"
    assert listing.arg("limit") == "10"
    # Sending it again would be refused as a duplicate: still unknown, never two posts.
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Réponse perdue"))
    assert (caught.value.kind, caught.value.code) == ("unknown", "duplicate")
    assert fake.duplicates() == [] and len(fake.posts) == 1


def test_a_dropped_connection_after_the_post_is_unknown(fake, images):
    fake.drop_after_processing(path=PHOTOS)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Coupé", media=images[:1]))
    assert caught.value.kind == "unknown" and caught.value.sent
    assert len(fake.posts) == 1


def test_an_unreadable_answer_to_a_create_is_unknown(fake):
    fake.malformed(path=FEED)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Illisible"))
    assert (caught.value.kind, caught.value.code) == ("unknown", "bad_answer")


def test_an_unreachable_graph_was_never_sent_to():
    channel = SimpleNamespace(
        base_url=closed_url(),
        account_id=PAGE_ID,
        handle=PAGE_NAME,
        secret_values={"access_token": PAGE_TOKEN, "page_id": PAGE_ID},
        limits={},
    )
    with pytest.raises(PublishError) as caught:
        publish(facebook.FacebookClient(channel), Content(text="Personne"))
    assert (caught.value.kind, caught.value.sent) == ("retry_later", False)


# --- find ----------------------------------------------------------------------------------


def test_find_with_the_saved_post_id_asks_nothing(fake):
    found = client_for(fake).find(
        Content(text="x"), stage={"post_id": f"{PAGE_ID}_1"}, since=datetime.now(UTC)
    )
    assert isinstance(found, Published)
    assert found.url == f"https://www.facebook.com/{PAGE_ID}_1"
    assert fake.requests == []


def test_find_reports_a_post_that_is_not_there(fake):
    publish(client_for(fake), Content(text="Autre chose"))
    found = client_for(fake).find(
        Content(text="Absent"), stage={}, since=datetime.now(UTC) - timedelta(minutes=1)
    )
    assert isinstance(found, NotFound)


def test_find_ignores_posts_older_than_the_attempt(fake):
    publish(client_for(fake), Content(text="Ancien"))
    found = client_for(fake).find(
        Content(text="Ancien"), stage={}, since=datetime.now(UTC) + timedelta(hours=1)
    )
    assert isinstance(found, NotFound)


def test_find_follows_the_pages_of_recent_posts(fake):
    started = datetime.now(UTC)
    publish(client_for(fake), Content(text="Le premier"))
    for number in range(12):
        publish(client_for(fake), Content(text=f"Suivant {number}"))
    found = client_for(fake).find(Content(text="Le premier"), stage={}, since=started)
    assert isinstance(found, Published) and found.remote_id == fake.posts[0]["id"]
    assert len(fake.calls("GET", "/published_posts")) == 2


def test_find_cannot_recognise_a_post_without_text(fake):
    found = client_for(fake).find(Content(text="", media=[{}]), stage={}, since=datetime.now(UTC))
    assert isinstance(found, CannotTell) and "mark it as published" in found.reason


def test_find_raises_when_the_token_is_dead(fake):
    fake.revoke(PAGE_TOKEN, subcode=458)
    with pytest.raises(PublishError) as caught:
        client_for(fake).find(Content(text="x"), stage={}, since=datetime.now(UTC))
    assert caught.value.kind == "reauth"
