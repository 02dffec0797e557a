"""The composer: channels and variants, live validation and previews, autosave, images, the
link card, and the buttons (save, send for review, schedule, publish now) under the roles."""

import html
import io
import json
import secrets
import socket
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from tribu.channels.models import Channel, ChannelState
from tribu.core.roles import Role
from tribu.publishing import text as network_text
from tribu.publishing.forms import MAX_IMAGE_BYTES
from tribu.publishing.models import Delivery, Post, PostMedia, PostStatus, PublishingSettings
from tribu.publishing.services import posts as post_service


def make_channel(workspace, network="mastodon", name=None, **fields):
    return Channel.objects.create(
        workspace=workspace,
        network=network,
        name=name or f"{network.title()} account",
        handle=f"@brand@{network}.example",
        account_id=secrets.token_hex(4),
        base_url=f"https://{network}.example",
        **fields,
    )


@pytest.fixture
def mastodon(workspace):
    return make_channel(workspace, "mastodon", "Acme on Mastodon")


@pytest.fixture
def bluesky(workspace):
    return make_channel(workspace, "bluesky", "Acme on Bluesky")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def url(workspace, name, *args):
    return reverse(f"publishing:{name}", args=[workspace.slug, *args])


def approval(workspace, required):
    PublishingSettings.objects.update_or_create(
        workspace=workspace, defaults={"require_approval": required}
    )


def png(width=40, height=30, image_format="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


def form_data(*channels, text="Bonjour !", **extra):
    data = {"text": text, "channels": [c.pk for c in channels], "draft_key": "k-" + text[:8]}
    data.update(extra)
    return data


# The page --------------------------------------------------------------------------------------


def test_the_composer_offers_the_active_channels(owner_client, workspace, mastodon, bluesky):
    disabled = make_channel(workspace, "x", "Old X account", state=ChannelState.DISABLED)
    body = owner_client.get(url(workspace, "compose")).content.decode()
    assert f'value="{mastodon.pk}"' in body and f'value="{bluesky.pk}"' in body
    assert f'value="{disabled.pk}"' not in body
    assert "Customise for Acme on Bluesky" in body and "Back to the main text" in body
    # Live validation and autosave are wired with htmx, on the composer's own form.
    assert 'hx-trigger="input changed delay:400ms from:#compose-form' in body
    assert url(workspace, "validate") in body and url(workspace, "autosave_new") in body
    assert "publishing/composer.js" in body and "style=" not in body and "<script>" not in body


def test_without_channels_the_composer_links_to_the_channels_page(owner_client, workspace):
    body = owner_client.get(url(workspace, "compose")).content.decode()
    assert reverse("channels:list", args=[workspace.slug]) in body
    assert "No channel is connected yet" in body


def test_the_calendar_can_open_the_composer_on_a_slot(owner_client, workspace, mastodon):
    response = owner_client.get(
        url(workspace, "compose"), {"at": "2026-03-10T09:00", "channel": mastodon.pk}
    )
    body = response.content.decode()
    assert 'value="2026-03-10T09:00"' in body
    assert f'value="{mastodon.pk}" id="channel-{mastodon.pk}" data-channel-choice' in body
    assert f'data-channel-choice="{mastodon.pk}" checked' in body
    # A broken slot opens an empty composer, not an error.
    assert owner_client.get(url(workspace, "compose"), {"at": "nope"}).status_code == 200


@pytest.mark.parametrize("role", [Role.VIEWER, Role.APPROVER])
def test_roles_without_drafting_cannot_compose(client_for, make_member, workspace, role):
    client = client_for(make_member(workspace, role))
    assert client.get(url(workspace, "compose")).status_code == 403
    assert client.post(url(workspace, "validate"), {"text": "x"}).status_code == 403


def test_another_workspace_s_post_is_not_found(owner_client, workspace, make_workspace):
    other = make_workspace()
    post = Post.objects.create(workspace=other, text="Secret")
    assert owner_client.get(url(workspace, "edit", post.pk)).status_code == 404
    response = owner_client.post(url(workspace, "autosave", post.pk), {"text": "Hijack"})
    assert response.status_code == 404
    post.refresh_from_db()
    assert post.text == "Secret"


# Saving ------------------------------------------------------------------------------------------


def test_save_draft_keeps_variants_thread_and_local_time(
    owner_client, workspace, mastodon, bluesky, user
):
    data = form_data(
        mastodon, bluesky, text="Main text #Acme",
        title="Spring launch", first_comment="", publish_at="2026-03-10T09:00",
        thread=["Second part", "", "Third part"],
        **{f"custom_{bluesky.pk}": "on", f"variant_{bluesky.pk}": "Short for Bluesky",
           f"variant_{mastodon.pk}": "ignored: not customised"},
    )  # fmt: skip
    response = owner_client.post(url(workspace, "compose"), data)
    post = Post.objects.get(workspace=workspace)
    assert response.status_code == 302 and response.url == url(workspace, "edit", post.pk)
    assert (post.status, post.title, post.created_by) == (PostStatus.DRAFT, "Spring launch", user)
    assert post.thread == ["Second part", "Third part"]
    # 09:00 in Paris on 10 March 2026 (winter time, UTC+1).
    assert post.publish_at == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    variants = {v.channel_id: v.text for v in post.variants.all()}
    assert variants == {mastodon.pk: None, bluesky.pk: "Short for Bluesky"}


def test_saving_an_empty_composer_creates_nothing(owner_client, workspace):
    response = owner_client.post(url(workspace, "compose"), {"text": "  "})
    assert response.status_code == 400 and not Post.objects.exists()
    assert "there is nothing to save" in response.content.decode()


def test_edit_applies_changes_and_back_to_the_main_text(owner_client, workspace, mastodon, user):
    post = post_service.create_post(workspace, user, Role.OWNER, text="Old", channels=[mastodon.pk],
                                    variants={mastodon.pk: "Own text"})  # fmt: skip
    page = owner_client.get(url(workspace, "edit", post.pk)).content.decode()
    assert "Own text" in page and f'name="custom_{mastodon.pk}"' in page
    # Unticking "customise" sends the channel back to the main text.
    owner_client.post(url(workspace, "edit", post.pk), form_data(mastodon, text="New"))
    post.refresh_from_db()
    assert post.text == "New" and post.variants.get().text is None and post.revision > 1


def test_a_published_post_cannot_be_edited(owner_client, workspace):
    post = Post.objects.create(workspace=workspace, text="Out", status=PostStatus.PUBLISHED)
    response = owner_client.get(url(workspace, "edit", post.pk))
    assert response.status_code == 302 and response.url == url(workspace, "post", post.pk)


def test_a_save_racing_the_first_autosave_updates_the_same_draft(owner_client, workspace, mastodon):
    data = form_data(mastodon, text="First words", draft_key="same-page")
    owner_client.post(url(workspace, "autosave_new"), data)
    owner_client.post(url(workspace, "compose"), {**data, "text": "First words, more"})
    post = Post.objects.get(workspace=workspace)
    assert post.text == "First words, more"


# Buttons and the service's answers ---------------------------------------------------------


def test_schedule_without_approval_creates_one_delivery_per_channel(
    owner_client, workspace, mastodon, bluesky
):
    approval(workspace, False)
    data = form_data(mastodon, bluesky, action="schedule", publish_at="2030-06-01T10:30")
    response = owner_client.post(url(workspace, "compose"), data)
    post = Post.objects.get(workspace=workspace)
    assert response.status_code == 302 and response.url == url(workspace, "post", post.pk)
    assert post.status == PostStatus.SCHEDULED
    deliveries = Delivery.objects.filter(post=post)
    assert {d.channel_id for d in deliveries} == {mastodon.pk, bluesky.pk}
    # 10:30 in Paris in June is 08:30 UTC (summer time).
    assert {d.due_at for d in deliveries} == {datetime(2030, 6, 1, 8, 30, tzinfo=UTC)}


def test_schedule_needs_a_time_and_says_so_next_to_the_field(owner_client, workspace, mastodon):
    response = owner_client.post(url(workspace, "compose"), form_data(mastodon, action="schedule"))
    assert response.status_code == 400
    assert "Choose the date and time to publish" in response.content.decode()
    assert response.context["form"].errors["publish_at"]


def test_schedule_with_approval_required_sends_for_review(owner_client, workspace, mastodon):
    approval(workspace, True)
    data = form_data(mastodon, action="schedule", publish_at="2030-06-01T10:30")
    owner_client.post(url(workspace, "compose"), data)
    post = Post.objects.get(workspace=workspace)
    assert post.status == PostStatus.IN_REVIEW and not post.deliveries.exists()


def test_publish_now_schedules_for_now(owner_client, workspace, mastodon):
    approval(workspace, False)
    before = timezone.now()
    owner_client.post(url(workspace, "compose"), form_data(mastodon, action="publish_now"))
    post = Post.objects.get(workspace=workspace)
    assert post.status == PostStatus.SCHEDULED
    assert before <= post.publish_at <= timezone.now()
    assert post.deliveries.get().due_at == post.publish_at


def test_a_service_refusal_shows_next_to_its_field(owner_client, workspace, mastodon):
    # No channel: the service refuses to send it for review, about the channels.
    response = owner_client.post(url(workspace, "compose"), {"text": "Hi", "action": "submit"})
    assert response.status_code == 400
    assert response.context["form"].errors["channels"] == [
        "Choose at least one channel to publish on."
    ]
    post = Post.objects.get(workspace=workspace)
    assert post.status == PostStatus.DRAFT  # the text itself was saved
    assert response.context["action_url"] == url(workspace, "edit", post.pk)


def test_content_problems_are_listed_per_channel(owner_client, workspace, bluesky):
    approval(workspace, False)
    data = form_data(bluesky, text="a" * 301, action="publish_now")
    response = owner_client.post(url(workspace, "compose"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Too long for Bluesky: 301 characters out of 300" in body
    assert Post.objects.get(workspace=workspace).status == PostStatus.DRAFT


@pytest.mark.parametrize(
    ("role", "required", "buttons", "absent"),
    [
        (Role.EDITOR, False, ["Schedule", "Publish now"], ["Send for review"]),
        (Role.EDITOR, True, ["Send for review", "Schedule", "Publish now"], []),
        (Role.CONTRIBUTOR, False, ["Send for review"], ["Schedule", "Publish now"]),
    ],
)
def test_buttons_follow_the_role_and_the_approval_rule(
    client_for, make_member, workspace, mastodon, role, required, buttons, absent
):
    approval(workspace, required)
    body = client_for(make_member(workspace, role)).get(url(workspace, "compose")).content.decode()
    assert 'value="save"' in body
    for label in buttons:
        assert f">{label}</button>" in body
    for label in absent:
        assert f">{label}</button>" not in body


def test_a_contributor_cannot_schedule_through_the_composer(
    client_for, make_member, workspace, mastodon
):
    client = client_for(make_member(workspace, Role.CONTRIBUTOR))
    data = form_data(mastodon, action="schedule", publish_at="2030-06-01T10:30")
    response = client.post(url(workspace, "compose"), data)
    assert response.status_code == 400
    assert "does not allow this action" in response.content.decode()
    assert Post.objects.get(workspace=workspace).status == PostStatus.DRAFT


# Live validation --------------------------------------------------------------------------------


def test_validation_counts_as_each_network_counts(owner_client, workspace, mastodon, bluesky):
    link = "https://www.example.com/a/very/long/path/that/goes/on/and/on/forever"
    text = f"Nouveau billet #Acme @alice@mastodon.example {link}"
    response = owner_client.post(
        url(workspace, "validate"), form_data(mastodon, bluesky, text=text)
    )
    body = html.unescape(response.content.decode())
    for network, maximum in (("mastodon", 500), ("bluesky", 300)):
        counted = network_text.count(network, text)
        assert f"{counted.length} / {maximum}" in body
        assert counted.rule in body  # how the network counts, in plain words
    # Mastodon counts the link as 23 characters, Bluesky in full.
    assert network_text.count("mastodon", text).length < len(text)
    assert network_text.count("bluesky", text).length == len(text)
    assert "Each link counts as 23 characters" in body
    # Previews: the link as each network shows it, the hashtag and the mention highlighted.
    assert 'class="pv pv-mastodon"' in body and 'class="pv pv-bluesky"' in body
    assert f'href="{link}"' in body
    # Mastodon shows a long link without its scheme and "www.", cut at 30 characters.
    shown = link.removeprefix("https://www.")[:30]
    assert len(shown) == 30 and f">{shown}…</a>" in body
    assert '<span class="pv-tag">#Acme</span>' in body
    assert '<span class="pv-mention">@alice@mastodon.example</span>' in body


def test_validation_shows_errors_warnings_and_the_editorial_line(
    owner_client, workspace, mastodon, bluesky
):
    PublishingSettings.objects.update_or_create(
        workspace=workspace,
        defaults={"words_to_avoid": "arnaque", "hashtags_to_add": "#Acme"},
    )
    text = "Pas une arnaque ! " + "x" * 300
    data = form_data(mastodon, bluesky, text=text, **{f"custom_{mastodon.pk}": "on",
                     f"variant_{mastodon.pk}": "Une arnaque courte"})  # fmt: skip
    body = html.unescape(owner_client.post(url(workspace, "validate"), data).content.decode())
    excess = network_text.count("bluesky", text).length - 300
    assert f"Shorten it by {excess} characters." in body and "problem-error" in body
    assert "“arnaque” is on this workspace's list of words to avoid" in body
    assert "Missing hashtag from the editorial line: #Acme" in body
    # The customised Mastodon text is counted and checked on its own.
    assert f"{len('Une arnaque courte')} / 500" in body
    assert (
        "“arnaque” is on this workspace's list of words to avoid"
        in body.split("Acme on Mastodon")[1]
    )


def test_validation_with_no_channel_asks_for_one(owner_client, workspace):
    body = owner_client.post(url(workspace, "validate"), {"text": "Hi"}).content.decode()
    assert "Choose at least one channel" in body


def test_validation_answers_only_post(owner_client, workspace):
    assert owner_client.get(url(workspace, "validate")).status_code == 405


def test_the_thread_is_counted_part_by_part(owner_client, workspace, bluesky):
    data = form_data(bluesky, text="One", thread=["Two", "b" * 320])
    body = owner_client.post(url(workspace, "validate"), data).content.decode()
    assert "Part 2: 3 / 300" in body and "Part 3: 320 / 300" in body
    assert "Part 3 of the thread is too long for Bluesky" in body


# Autosave -----------------------------------------------------------------------------------------


def test_the_first_autosave_creates_the_draft_and_says_where(owner_client, workspace, mastodon):
    response = owner_client.post(
        url(workspace, "autosave_new"), form_data(mastodon, text="Draft 1")
    )
    post = Post.objects.get(workspace=workspace)
    assert response.status_code == 200 and "Saved at" in response.content.decode()
    event = json.loads(response["HX-Trigger"])["tribu:draft-created"]
    assert event == {
        "post_id": post.pk,
        "edit_url": url(workspace, "edit", post.pk),
        "autosave_url": url(workspace, "autosave", post.pk),
    }
    # The same page autosaving again (same draft key) updates that draft.
    response = owner_client.post(
        url(workspace, "autosave_new"),
        form_data(mastodon, text="Draft 1, longer", draft_key="k-Draft 1"),
    )
    assert Post.objects.filter(workspace=workspace).count() == 1
    post.refresh_from_db()
    assert post.text == "Draft 1, longer" and "HX-Trigger" not in response


def test_autosave_of_an_empty_page_creates_nothing(owner_client, workspace):
    response = owner_client.post(url(workspace, "autosave_new"), {"text": "", "draft_key": "x"})
    assert response.status_code == 200 and "Nothing to save yet" in response.content.decode()
    assert not Post.objects.exists()


def test_autosave_updates_a_draft_and_keeps_what_is_valid(owner_client, workspace, mastodon, user):
    post = post_service.create_post(workspace, user, Role.OWNER, text="Before",
                                    channels=[mastodon.pk],
                                    publish_at=datetime(2030, 1, 1, 9, tzinfo=UTC))  # fmt: skip
    data = form_data(mastodon, text="After", publish_at="not a date")
    response = owner_client.post(url(workspace, "autosave", post.pk), data)
    post.refresh_from_db()
    assert response.status_code == 200 and "Saved at" in response.content.decode()
    # The text is saved; the broken date leaves the time as it was.
    assert post.text == "After" and post.publish_at == datetime(2030, 1, 1, 9, tzinfo=UTC)


def test_autosave_skips_a_save_that_changes_nothing(owner_client, workspace, mastodon, user):
    post = post_service.create_post(
        workspace, user, Role.OWNER, text="Same", channels=[mastodon.pk]
    )
    revision = post.revision
    owner_client.post(url(workspace, "autosave", post.pk), form_data(mastodon, text="Same"))
    post.refresh_from_db()
    assert post.revision == revision


def test_autosave_is_for_drafts_only(owner_client, workspace, mastodon, user):
    post = post_service.create_post(
        workspace, user, Role.OWNER, text="Sent", channels=[mastodon.pk]
    )
    post_service.submit(post, user, Role.OWNER)
    response = owner_client.post(
        url(workspace, "autosave", post.pk), form_data(mastodon, text="Other")
    )
    assert response.status_code == 409
    assert "Not saved automatically" in response.content.decode()
    assert "nothing is lost" in response.content.decode()
    post.refresh_from_db()
    assert post.text == "Sent"


def test_autosave_refused_by_the_service_explains(owner_client, workspace, mastodon, user):
    post = post_service.create_post(workspace, user, Role.OWNER, text="T", channels=[mastodon.pk])
    mastodon.state = ChannelState.DISABLED
    mastodon.save()
    response = owner_client.post(url(workspace, "autosave", post.pk), form_data(mastodon, text="U"))
    assert response.status_code == 422
    assert "disabled" in response.content.decode() and "still here" in response.content.decode()


# Images ------------------------------------------------------------------------------------------


def test_an_image_is_stored_with_its_size_type_and_description(owner_client, workspace, mastodon):
    upload = SimpleUploadedFile("photo.png", png(40, 30), content_type="image/png")
    data = form_data(mastodon, image=upload, image_alt="A red square")
    owner_client.post(url(workspace, "compose"), data)
    media = PostMedia.objects.get(post__workspace=workspace)
    assert (media.width, media.height, media.content_type) == (40, 30, "image/png")
    assert media.alt_text == "A red square" and media.size_bytes == len(png(40, 30))
    # It shows in the composer and in the preview, with its description.
    post = media.post
    page = owner_client.get(url(workspace, "edit", post.pk)).content.decode()
    assert f'src="{media.file.url}" alt="A red square"' in page
    # The description can change, and the image can be removed.
    owner_client.post(url(workspace, "edit", post.pk),
                      form_data(mastodon, **{f"alt_{media.pk}": "A square, red"}))  # fmt: skip
    media.refresh_from_db()
    assert media.alt_text == "A square, red"
    owner_client.post(url(workspace, "edit", post.pk),
                      form_data(mastodon, **{f"remove_{media.pk}": "on"}))  # fmt: skip
    assert not PostMedia.objects.exists()


def test_an_image_type_is_read_from_its_content(owner_client, workspace, mastodon):
    upload = SimpleUploadedFile("photo.png", png(image_format="JPEG"), content_type="image/png")
    owner_client.post(url(workspace, "compose"), form_data(mastodon, image=upload))
    assert PostMedia.objects.get().content_type == "image/jpeg"


def test_a_file_that_is_not_an_image_is_refused(owner_client, workspace, mastodon):
    upload = SimpleUploadedFile("notes.png", b"not an image at all", content_type="image/png")
    response = owner_client.post(url(workspace, "compose"), form_data(mastodon, image=upload))
    assert response.status_code == 400
    assert "This file is not an image Tribu can read" in response.content.decode()
    assert not Post.objects.exists()


def test_an_image_over_20_mb_is_refused(owner_client, workspace, mastodon):
    upload = SimpleUploadedFile("big.png", b"\0" * (MAX_IMAGE_BYTES + 1), content_type="image/png")
    response = owner_client.post(url(workspace, "compose"), form_data(mastodon, image=upload))
    assert response.status_code == 400
    assert "the limit is 20.0\xa0MB" in response.content.decode()


def test_images_stay_fixed_once_a_post_is_in_review(owner_client, workspace, mastodon, user):
    approval(workspace, True)
    post = post_service.create_post(workspace, user, Role.OWNER, text="T", channels=[mastodon.pk])
    post_service.submit(post, user, Role.OWNER)
    upload = SimpleUploadedFile("photo.png", png(), content_type="image/png")
    response = owner_client.post(
        url(workspace, "edit", post.pk), form_data(mastodon, text="T", image=upload)
    )
    assert response.status_code == 400
    assert "Images can only change while the post is a draft" in response.content.decode()
    assert not PostMedia.objects.exists()


# Link card ------------------------------------------------------------------------------------

PAGE = """<html><head><title>Fallback</title>
<meta property="og:title" content="Spring collection">
<meta property="og:description" content="Ten new lamps for the terrace.">
<meta property="og:image" content="/static/cover.jpg"></head><body>Hi</body></html>"""


@pytest.fixture
def shop(monkeypatch, httpserver):
    """A web site at shop.example (a name with a dot: what networks link), served by the
    loopback test server; the name resolves to 127.0.0.1 only for this test."""
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "shop.example":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return lambda path: f"http://shop.example:{httpserver.port}{path}"


@pytest.fixture
def private_allowed(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


def test_the_link_card_is_fetched_on_demand_and_stored(
    owner_client, workspace, mastodon, user, httpserver, shop, private_allowed
):
    httpserver.expect_request("/spring").respond_with_data(PAGE, content_type="text/html")
    link = shop("/spring")
    post = post_service.create_post(workspace, user, Role.OWNER, text=f"Look {link}",
                                    channels=[mastodon.pk])  # fmt: skip
    response = owner_client.post(url(workspace, "link_card"),
                                 {"text": f"Look {link} now", "post_id": post.pk})  # fmt: skip
    body = response.content.decode()
    assert "Spring collection" in body and "Ten new lamps" in body
    assert "tribu:link-card" in response["HX-Trigger"]
    post.refresh_from_db()
    assert post.link_card == {
        "url": link,
        "title": "Spring collection",
        "description": "Ten new lamps for the terrace.",
        "image": shop("/static/cover.jpg"),
    }
    # The preview shows it as a card, under the text.
    page = owner_client.get(url(workspace, "edit", post.pk)).content.decode()
    assert 'class="pv-card"' in page and "Spring collection" in page


def test_a_link_card_failure_shows_no_preview_without_blocking(
    owner_client, workspace, mastodon, httpserver, shop, private_allowed
):
    httpserver.expect_request("/broken").respond_with_data("oops", status=500)
    link = shop("/broken")
    response = owner_client.post(url(workspace, "link_card"), {"text": f"See {link}"})
    body = response.content.decode()
    assert response.status_code == 200 and "No preview:" in body and "(500)" in body
    # Saving still works, without a card.
    owner_client.post(url(workspace, "compose"), form_data(mastodon, text=f"See {link}"))
    assert Post.objects.get().link_card == {}


def test_the_link_card_refuses_private_addresses_by_default(
    owner_client, workspace, httpserver, shop
):
    httpserver.expect_request("/x").respond_with_data(PAGE, content_type="text/html")
    response = owner_client.post(url(workspace, "link_card"), {"text": shop("/x")})
    body = response.content.decode()
    assert "No preview:" in body and "Spring collection" not in body
    assert not httpserver.log  # the SSRF guard refused before connecting


def test_a_text_without_link_has_no_card(owner_client, workspace):
    body = owner_client.post(url(workspace, "link_card"), {"text": "Plain"}).content.decode()
    assert "No preview: There is no link in the text." in body


def test_a_card_is_dropped_when_its_link_leaves_the_text(owner_client, workspace, mastodon, user):
    card = {"url": "https://example.com/a", "title": "A"}
    data = form_data(mastodon, text="No link any more", link_card=json.dumps(card))
    owner_client.post(url(workspace, "compose"), data)
    assert Post.objects.get().link_card == {}
    data = form_data(
        mastodon, text="With https://example.com/a", link_card=json.dumps(card), draft_key="2"
    )
    owner_client.post(url(workspace, "compose"), data)
    assert Post.objects.get(text__startswith="With").link_card == card


def test_the_draft_key_never_reaches_another_workspace(
    owner_client, workspace, mastodon, make_workspace, user
):
    other = make_workspace(owner=user)
    data = form_data(mastodon, text="Mine", draft_key="shared")
    owner_client.post(url(workspace, "autosave_new"), data)
    owner_client.post(url(other, "compose"), {"text": "Other", "draft_key": "shared"})
    assert Post.objects.get(workspace=workspace).text == "Mine"
    assert Post.objects.get(workspace=other).text == "Other"


def test_times_show_in_the_workspace_zone(owner_client, workspace, mastodon, user):
    at = datetime(2026, 7, 1, 7, 15, tzinfo=UTC)  # 09:15 in Paris
    post = post_service.create_post(workspace, user, Role.OWNER, text="T", channels=[mastodon.pk],
                                    publish_at=at)  # fmt: skip
    page = owner_client.get(url(workspace, "edit", post.pk)).content.decode()
    assert 'value="2026-07-01T09:15"' in page
    assert 'value="2026-07-01T07:15"' not in page


def test_a_post_in_review_with_images_saves_its_text(owner_client, workspace, mastodon, user):
    approval(workspace, True)
    post = post_service.create_post(workspace, user, Role.OWNER, text="T", channels=[mastodon.pk])
    upload = SimpleUploadedFile("photo.png", png(), content_type="image/png")
    media = PostMedia.objects.create(
        post=post, file=upload, alt_text="Red", content_type="image/png",
        size_bytes=10, width=40, height=30,
    )  # fmt: skip
    post_service.submit(post, user, Role.OWNER)
    page = owner_client.get(url(workspace, "edit", post.pk)).content.decode()
    assert f'name="alt_{media.pk}"' not in page and "Red" in page  # shown, not editable
    response = owner_client.post(url(workspace, "edit", post.pk), form_data(mastodon, text="T2"))
    assert response.status_code == 302
    post.refresh_from_db()
    media.refresh_from_db()
    assert post.text == "T2" and media.alt_text == "Red"
