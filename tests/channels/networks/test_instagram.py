"""The Instagram client against the Meta Graph fake, over real HTTP on loopback. The fake
downloads each image from Tribu itself, served by Django's live server (the signed
/channels/media/<token> address), as Meta does."""

import io
import socket
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
from PIL import Image

from tribu.channels.networks import http, instagram
from tribu.channels.networks.base import Content, NotFound, Published, PublishError
from tribu.testing.fakes.meta import (
    APP_ID,
    APP_SECRET,
    IG_ID,
    IG_USERNAME,
    PAGE_ID,
    PAGE_TOKEN,
    USER_TOKEN,
    VERSION,
    MetaGraphFake,
)
from tribu.testing.publishing import Stages

REDIRECT = "https://tribu.example/channels/meta/callback"
MEDIA = f"/{VERSION}/{IG_ID}/media"
PUBLISH = f"/{VERSION}/{IG_ID}/media_publish"
LIMIT = f"/{VERSION}/{IG_ID}/content_publishing_limit"


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
def tribu(live_server, settings, tmp_path):
    """Tribu's own address, where Instagram downloads the images, and its media folder."""
    settings.TRIBU_BASE_URL = live_server.url
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "posts").mkdir()
    return tmp_path


def jpeg(color="red", size=(10, 10)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def image(folder, name, *, color="red", size=(10, 10), alt="", kind="JPEG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, kind)
    data = buffer.getvalue()
    (folder / "posts" / name).write_bytes(data)
    return {
        "path": f"posts/{name}",
        "alt": alt,
        "content_type": "image/jpeg" if kind == "JPEG" else f"image/{kind.lower()}",
        "width": size[0],
        "height": size[1],
        "size": len(data),
    }


@pytest.fixture
def photos(tribu):
    return [
        image(tribu, "a.jpg", color="red", alt="Un carré rouge"),
        image(tribu, "b.jpg", color="blue", alt="A blue square"),
        image(tribu, "c.jpg", color="green"),
    ]


def client_for(fake, *, token=PAGE_TOKEN, timeout=None):
    channel = SimpleNamespace(
        base_url=fake.base_url,
        account_id=IG_ID,
        handle=f"@{IG_USERNAME}",
        secret_values={"access_token": token, "page_id": PAGE_ID},
        limits={},
    )
    client = instagram.InstagramClient(channel, timeout=timeout)
    client.container_poll_delays = (0.01,) * 5  # the fake processes in polls, not seconds
    return client


def publish(client, content, *, stage=None, stages=None):
    return client.publish(
        content, idempotency_key="key-1", stage=stage or {}, save_stage=stages or Stages()
    )


def labels(log):
    return [(request, status) for request, status, _ms in log]


def closed_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def form(request):
    return {key: values[0] for key, values in parse_qs(request.body.decode()).items()}


# --- OAuth and connect -------------------------------------------------------------------------


def test_oauth_gives_one_account_per_linked_instagram_account(fake):
    app = http.app_for("meta")
    fake.add_page("Acme sans Instagram")
    lyon = fake.add_page("Acme Lyon")
    lyon_ig = fake.add_instagram(lyon["id"], "acme.lyon", name="Acme Lyon")
    url = instagram.InstagramClient.authorization_url(app, REDIRECT, "st", "challenge")
    query = parse_qs(urlsplit(url).query)
    scopes = query["scope"][0].split(",")
    assert {"instagram_basic", "instagram_content_publish", "pages_show_list"} <= set(scopes)
    assert "code_challenge" not in query
    response = urllib3.request("GET", url, redirect=False)
    code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
    grant = instagram.InstagramClient.exchange_code(app, REDIRECT, code, "")

    accounts = instagram.InstagramClient.accounts(app, grant)
    assert [a.account_id for a in accounts] == [IG_ID, lyon_ig["id"]]
    first = accounts[0]
    assert (first.handle, first.name, first.account_kind) == (f"@{IG_USERNAME}", "Acme", "profile")
    assert first.avatar_url == fake.ig["profile_picture_url"]
    assert first.secrets["page_id"] == PAGE_ID
    token = first.secrets["access_token"]
    assert fake.tokens[token]["kind"] == "page" and fake.tokens[token]["page_id"] == PAGE_ID
    assert first.token_expires_at is None
    [listing] = fake.calls("GET", "/me/accounts")
    assert "instagram_business_account{" in listing.arg("fields")


def test_connect_with_a_page_token_finds_its_instagram_account(fake):
    account = instagram.InstagramClient.connect(fake.base_url, {"access_token": PAGE_TOKEN})
    assert (account.account_id, account.handle) == (IG_ID, f"@{IG_USERNAME}")
    assert account.secrets == {"access_token": PAGE_TOKEN, "page_id": PAGE_ID}


def test_connect_with_a_user_token_asks_which_account_by_instagram_or_page_id(fake):
    lyon = fake.add_page("Acme Lyon")
    lyon_ig = fake.add_instagram(lyon["id"], "acme.lyon")
    with pytest.raises(PublishError) as caught:
        instagram.InstagramClient.connect(fake.base_url, {"access_token": USER_TOKEN})
    assert caught.value.code == "choose_account"
    assert f"{IG_ID} (@{IG_USERNAME})" in caught.value.message
    assert f"{lyon_ig['id']} (@acme.lyon)" in caught.value.message
    by_page = instagram.InstagramClient.connect(
        fake.base_url, {"access_token": USER_TOKEN, "account_id": lyon["id"]}
    )
    by_ig = instagram.InstagramClient.connect(
        fake.base_url, {"access_token": USER_TOKEN, "account_id": lyon_ig["id"]}
    )
    assert by_page.account_id == by_ig.account_id == lyon_ig["id"]
    assert by_page.secrets["page_id"] == lyon["id"]


def test_connect_a_page_without_instagram_says_what_to_do(fake):
    page = fake.add_page("Boulangerie", token="bakery-token")
    with pytest.raises(PublishError) as caught:
        instagram.InstagramClient.connect(fake.base_url, {"access_token": "bakery-token"})
    assert (caught.value.kind, caught.value.code) == ("fatal", "no_instagram_account")
    assert page["name"] in caught.value.message and "professional" in caught.value.message


# --- publish -------------------------------------------------------------------------------


def test_publish_one_image_through_a_container(fake, photos):
    stages = Stages()
    content = Content(text="Un carré #rouge", media=photos[:1])
    published = publish(client_for(fake), content, stages=stages)

    [media] = fake.media
    [container] = fake.containers.values()
    assert isinstance(published, Published)
    assert (published.remote_id, published.url) == (media["id"], media["permalink"])
    assert media["caption"] == "Un carré #rouge" and media["media_type"] == "IMAGE"
    assert container["alt_text"] == "Un carré rouge"
    # Meta downloaded the image from Tribu's signed address.
    [create] = fake.calls("POST", "/media")
    sent = form(create)
    assert sent["caption"] == "Un carré #rouge" and sent["alt_text"] == "Un carré rouge"
    assert sent["image_url"].startswith(http.public_media_url(photos[0], "Instagram")[:40])
    assert "/channels/media/" in sent["image_url"]
    assert fake.downloads == [(sent["image_url"], 200)]
    assert container["sha256"]  # what was downloaded is the JPEG
    assert labels(published.requests) == [
        (f"GET {LIMIT}", 200),
        (f"POST {MEDIA}", 200),
        (f"GET /{VERSION}/{container['id']}", 200),  # IN_PROGRESS
        (f"GET /{VERSION}/{container['id']}", 200),  # FINISHED
        (f"POST {PUBLISH}", 200),
        (f"GET /{VERSION}/{media['id']}", 200),
    ]
    [publish_request] = fake.calls("POST", "/media_publish")
    assert publish_request.arg("creation_id") == container["id"]
    assert stages.saved == [
        {"container": container["id"]},
        {"container": container["id"], "media_id": media["id"]},
    ]


def test_a_carousel_has_one_child_per_image_then_its_parent(fake, photos):
    stages = Stages()
    published = publish(client_for(fake), Content(text="Trois carrés", media=photos), stages=stages)
    [media] = fake.media
    assert media["media_type"] == "CAROUSEL_ALBUM" and published.remote_id == media["id"]
    creates = [form(r) for r in fake.calls("POST", "/media")]
    children = list(fake.containers)[:3]
    assert [c.get("is_carousel_item") for c in creates[:3]] == ["true"] * 3
    assert [c.get("alt_text") for c in creates[:3]] == ["Un carré rouge", "A blue square", None]
    assert all("caption" not in c for c in creates[:3])
    assert creates[3] == {
        "media_type": "CAROUSEL",
        "children": ",".join(children),
        "caption": "Trois carrés",
    }
    assert [c["id"] for c in media["children"]] == children
    parent = list(fake.containers)[3]
    assert stages.saved[:4] == [
        {"children": children[:1]},
        {"children": children[:2]},
        {"children": children},
        {"children": children, "container": parent},
    ]
    assert len(fake.downloads) == 3


def test_a_resumed_carousel_creates_only_the_missing_children(fake, photos):
    stages = Stages()
    fake.pass_through(path=MEDIA)
    fake.fail(500, path=MEDIA)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Reprise", media=photos[:2]), stages=stages)
    assert caught.value.kind == "retry_later"
    assert stages.last == {"children": list(fake.containers)}
    publish(client_for(fake), Content(text="Reprise", media=photos[:2]), stage=stages.last)
    assert len(fake.downloads) == 2 and len(fake.containers) == 3
    [media] = fake.media
    assert len(media["children"]) == 2


def test_content_instagram_would_refuse_costs_no_call(fake, tribu):
    client = client_for(fake)
    cases = [
        (Content(text="Texte seul"), "image_required"),
        (Content(text="x" * 2201, media=[image(tribu, "ok.jpg")]), "too_long"),
        (Content(text="PNG", media=[image(tribu, "p.png", kind="PNG")]), "image_format"),
        (
            Content(text="Bandeau", media=[image(tribu, "w.jpg", size=(40, 10))]),
            "image_aspect_ratio",
        ),
    ]
    for content, code in cases:
        with pytest.raises(PublishError) as caught:
            publish(client, content)
        assert (caught.value.kind, caught.value.code, caught.value.sent) == (
            "fix_content",
            code,
            False,
        )
    assert fake.requests == []


def test_an_image_meta_cannot_download_is_retried_later(fake, tribu, settings):
    photo = image(tribu, "a.jpg")
    settings.TRIBU_BASE_URL = closed_url()  # Tribu unreachable from "Meta"
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Injoignable", media=[photo]))
    assert (caught.value.kind, caught.value.code) == ("retry_later", "media_fetch_failed")
    assert caught.value.detail.startswith("9004/2207052: The media could not be fetched")
    assert "TRIBU_BASE_URL" in caught.value.message
    assert fake.containers == {} and fake.media == []


def test_a_forged_image_address_is_not_downloadable(fake, photos, monkeypatch):
    real = http.public_media_url
    monkeypatch.setattr(http, "public_media_url", lambda item, service: real(item, service) + "x")
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Faux lien", media=photos[:1]))
    assert caught.value.code == "media_fetch_failed"
    assert fake.downloads[0][1] == 404


def test_a_container_in_error_needs_a_fix_with_metas_words(fake, photos):
    fake.fail_processing("Error: Media upload has failed with error code 2207001")
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Erreur", media=photos[:1]))
    assert (caught.value.kind, caught.value.code) == ("fix_content", "media_error")
    assert "2207001" in caught.value.message
    assert fake.media == []


def test_a_container_still_processing_is_resumed_without_a_new_one(fake, photos):
    fake.container_polls = 8
    stages = Stages()
    content = Content(text="Patience", media=photos[:1])
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content, stages=stages)
    assert (caught.value.kind, caught.value.code, caught.value.retry_after) == (
        "retry_later",
        "media_processing",
        60,
    )
    assert stages.last == {"container": list(fake.containers)[0]}
    published = publish(client_for(fake), content, stage=stages.last)
    assert len(fake.containers) == 1 and len(fake.downloads) == 1
    assert published.remote_id == fake.media[0]["id"]


def test_an_expired_container_is_created_again(fake, photos):
    stages = Stages()
    content = Content(text="Trop tard", media=photos[:1])
    fake.fail(500, path=PUBLISH)
    with pytest.raises(PublishError):
        publish(client_for(fake), content, stages=stages)
    old = stages.last["container"]
    fake.advance(25 * 3600)  # containers live 24 hours
    published = publish(client_for(fake), content, stage=stages.last)
    [media] = fake.media
    assert media["container_id"] != old and published.remote_id == media["id"]
    assert len(fake.containers) == 2


def test_publish_again_after_a_lost_answer_finds_the_published_container(fake, photos):
    stages = Stages()
    content = Content(text="Réponse perdue", media=photos[:1])
    fake.drop_after_processing(path=PUBLISH)
    # The client reads the container once after the lost answer: PUBLISHED, so it is done.
    published = publish(client_for(fake), content, stages=stages)
    [media] = fake.media
    assert (published.remote_id, published.url) == (media["id"], media["permalink"])
    assert stages.last["media_id"] == media["id"]
    assert labels(published.requests)[-3:] == [
        (f"POST {PUBLISH}", None),  # no answer
        (f"GET /{VERSION}/{media['container_id']}", 200),  # PUBLISHED
        (f"GET {MEDIA}", 200),  # its media id, by caption
    ]
    # A later attempt with the same stage publishes nothing more.
    publish(client_for(fake), content, stage={"container": media["container_id"]})
    assert len(fake.media) == 1 and fake.duplicates() == []


def test_a_second_media_publish_of_a_container_is_refused(fake, photos):
    publish(client_for(fake), Content(text="Une fois", media=photos[:1]))
    [media] = fake.media
    again = urllib3.request(
        "POST",
        fake.base_url + PUBLISH + f"?creation_id={media['container_id']}",
        headers={"Authorization": f"Bearer {PAGE_TOKEN}"},
    )
    assert again.status == 400
    error = again.json()["error"]
    assert (error["code"], error["error_subcode"]) == (100, 2207008)
    assert len(fake.media) == 1


def test_a_publish_still_in_flight_is_unknown_then_found(fake, photos):
    content = Content(text="En route", media=photos[:1])
    stages = Stages()
    started = datetime.now(UTC)
    fake.fail(500, path=PUBLISH)  # a first attempt prepares the container
    with pytest.raises(PublishError):
        publish(client_for(fake), content, stages=stages)
    fake.slow(1.5, path=PUBLISH)  # Meta publishes after our client gave up waiting
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake, timeout=0.5), content, stage=stages.last, stages=stages)
    assert (caught.value.kind, caught.value.code) == ("unknown", "no_answer")
    assert fake.media == []  # not yet, when the client read the container
    for _wait in range(100):
        if fake.media:
            break
        time.sleep(0.05)
    [media] = fake.media
    found = client_for(fake).find(content, stage=stages.last, since=started)
    assert isinstance(found, Published)
    assert (found.remote_id, found.url) == (media["id"], media["permalink"])


def test_find_says_not_found_when_the_container_never_went_out(fake, photos):
    content = Content(text="Jamais parti", media=photos[:1])
    stages = Stages()
    fake.malformed(path=PUBLISH)  # an unreadable answer, the publish never happened
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content, stages=stages)
    assert (caught.value.kind, caught.value.code) == ("unknown", "bad_answer")
    found = client_for(fake).find(content, stage=stages.last, since=datetime.now(UTC))
    assert isinstance(found, NotFound)
    assert labels(found.requests) == [(f"GET /{VERSION}/{stages.last['container']}", 200)]


def test_find_with_the_media_id_or_by_caption(fake, photos):
    started = datetime.now(UTC)
    publish(client_for(fake), Content(text="Déjà publié", media=photos[:1]))
    [media] = fake.media
    client = client_for(fake)
    saved = client.find(
        Content(text="x"), stage={"media_id": media["id"], "url": media["permalink"]}, since=started
    )
    assert (saved.remote_id, saved.url, saved.requests) == (media["id"], media["permalink"], [])
    # No container saved: the latest media are compared by caption and time.
    by_caption = client.find(Content(text="Déjà publié"), stage={}, since=started)
    assert isinstance(by_caption, Published) and by_caption.remote_id == media["id"]
    [listing] = fake.calls("GET", "/media")
    assert listing.arg("fields") == "id,caption,timestamp,permalink"
    assert listing.arg("limit") == "10"
    assert isinstance(client.find(Content(text="Autre"), stage={}, since=started), NotFound)
    later = started + timedelta(hours=1)
    assert isinstance(client.find(Content(text="Déjà publié"), stage={}, since=later), NotFound)


def test_over_the_publishing_quota_waits_an_hour_before_any_container(fake, photos):
    fake.quota_total = 1
    publish(client_for(fake), Content(text="Le seul", media=photos[:1]))
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Un de trop", media=photos[1:2]))
    assert (caught.value.kind, caught.value.code, caught.value.retry_after) == (
        "retry_later",
        "publishing_limit",
        3600,
    )
    assert "24 hours" in caught.value.message
    assert len(fake.containers) == 1
    [limit] = fake.calls("GET", "/content_publishing_limit")[1:]
    assert limit.arg("fields") == "quota_usage,config"


def test_metas_own_quota_refusal_also_waits_an_hour(fake, photos):
    fake.quota_total = 0
    fake.respond_raw(b'{"data": []}', path=LIMIT)  # an unreadable quota: Meta decides
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), Content(text="Refusé", media=photos[:1]))
    assert (caught.value.kind, caught.value.code, caught.value.retry_after) == (
        "retry_later",
        "publishing_limit",
        3600,
    )


def test_first_comment_on_the_media(fake, photos):
    stages = Stages()
    content = Content(text="Avec commentaire", media=photos[:1], first_comment="#tribu #acme")
    published = publish(client_for(fake), content, stages=stages)
    [media] = fake.media
    [comment] = media["comments"]
    assert comment["message"] == "#tribu #acme" and comment["from"] == IG_ID
    assert labels(published.requests)[-1] == (f"POST /{VERSION}/{media['id']}/comments", 200)
    assert stages.last["media_id"] == media["id"] and stages.last["url"] == media["permalink"]


def test_a_comment_without_the_comments_permission_leaves_the_post_published(fake, photos):
    fake.remove_scope(PAGE_TOKEN, "instagram_manage_comments")
    content = Content(text="Sans commentaire", media=photos[:1], first_comment="Non")
    published = publish(client_for(fake), content)
    [media] = fake.media
    assert published.remote_id == media["id"] and media["comments"] == []
    assert labels(published.requests)[-1] == (f"POST /{VERSION}/{media['id']}/comments", 403)
    [warning] = published.warnings
    assert "Instagram" in warning and "first comment could not be added" in warning
    assert published.url in warning


def test_errors_map_to_the_taxonomy(fake, photos):
    content = Content(text="Erreurs", media=photos[:1])
    fake.throttle(code=80002, minutes=4, path=LIMIT)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content)
    assert (caught.value.kind, caught.value.retry_after) == ("retry_later", 240)

    fake.fail(503, path=MEDIA)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content)
    assert (caught.value.kind, caught.value.code) == ("retry_later", "server_error")

    fake.remove_scope(PAGE_TOKEN, "instagram_content_publish")
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content)
    assert (caught.value.kind, caught.value.code) == ("fatal", "forbidden")
    assert "(#10)" in caught.value.detail

    fake.expire(PAGE_TOKEN)
    with pytest.raises(PublishError) as caught:
        publish(client_for(fake), content)
    assert (caught.value.kind, caught.value.code) == ("reauth", "token_invalid")
    assert fake.media == []


def test_a_published_container_whose_media_cannot_be_found_gives_the_profile(fake, photos):
    publish(client_for(fake), Content(text="Légende d'origine", media=photos[:1]))
    [media] = fake.media
    # The caption no longer matches (edited on Instagram since): the post is out, but
    # which media it is cannot be told; the profile's address is the best Tribu can give.
    published = publish(
        client_for(fake),
        Content(text="Légende modifiée", media=photos[:1]),
        stage={"container": media["container_id"]},
    )
    assert (published.remote_id, published.url) == ("", f"https://www.instagram.com/{IG_USERNAME}/")
    assert len(fake.media) == 1
