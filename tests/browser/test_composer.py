"""Writing a post in a real browser: compose it for Mastodon and Bluesky, watch the live
counts and previews, let autosave create the draft, send it to a client through an approval
link, and approve it from another (signed-out) browser: the post is scheduled with one
delivery per channel. Publishing against the network fakes is the end-to-end test's."""

import re

import pytest

from tribu.channels.models import Channel
from tribu.core.services.workspaces import create_workspace
from tribu.publishing import text as network_text
from tribu.publishing.models import Delivery, Post, PostStatus, PublishingSettings
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "Nouvelle collection de lampes ! #MaisonLumiere https://lumiere.example/collection"


def seed(owner):
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    PublishingSettings.objects.update_or_create(
        workspace=workspace, defaults={"require_approval": True}
    )
    mastodon = Channel.objects.create(
        workspace=workspace, network="mastodon", name="Lumière (Mastodon)",
        handle="@lumiere@mastodon.example", account_id="1", base_url="https://mastodon.example",
    )  # fmt: skip
    bluesky = Channel.objects.create(
        workspace=workspace, network="bluesky", name="Lumière (Bluesky)",
        handle="lumiere.bsky.social", account_id="did:plc:lumiere", base_url="https://bsky.example",
    )  # fmt: skip
    return workspace, mastodon, bluesky


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))


def test_compose_autosave_and_client_approval(page, browser, live_server, make_user, settings):
    settings.TRIBU_BASE_URL = live_server.url  # the address links are built with
    owner = make_user("alice@example.com", name="Alice")
    _workspace, mastodon, bluesky = seed(owner)
    sign_in(page, live_server)

    page.goto(f"{live_server.url}/w/lumiere/publishing/posts/new/")
    page.get_by_role("checkbox", name=re.compile(r"^Mastodon Lumière \(Mastodon\)")).check()
    page.get_by_role("checkbox", name=re.compile(r"^Bluesky Lumière \(Bluesky\)")).check()
    page.get_by_role("textbox", name="Text", exact=True).fill(TEXT)

    # Live counts, as each network counts: Mastodon counts the link as 23 characters.
    mastodon_count = network_text.count("mastodon", TEXT).length
    bluesky_count = network_text.count("bluesky", TEXT).length
    assert mastodon_count != bluesky_count
    live = page.locator("#live")
    live.get_by_text(f"{mastodon_count} / 500", exact=True).wait_for()
    live.get_by_text(f"{bluesky_count} / 300", exact=True).wait_for()
    assert live.locator(".pv-bluesky .pv-tag").inner_text() == "#MaisonLumiere"

    # A text of its own for Bluesky, counted on its own.
    page.get_by_label("Customise for Lumière (Bluesky)").check()
    own = page.get_by_role("textbox", name="Text for Lumière (Bluesky)")
    assert own.input_value() == TEXT  # it starts from the main text
    own.fill("Nos lampes arrivent ! #MaisonLumiere")
    own_count = network_text.count("bluesky", own.input_value()).length
    live.get_by_text(f"{own_count} / 300", exact=True).wait_for()

    # A follow-up part of the thread, and a time (workspace zone).
    page.get_by_role("button", name="Add a part to the thread").click()
    page.get_by_role("textbox", name="Part 2").fill("Disponibles en boutique dès samedi.")
    page.get_by_label("Publish on (date and time)").fill("2030-06-01T10:30")

    # Autosave creates the draft and points the page at it.
    page.locator("#autosave-status").get_by_text(re.compile(r"Saved at \d\d:\d\d")).wait_for()
    page.wait_for_url(re.compile(r"/publishing/posts/\d+/edit/$"))
    post = Post.objects.get()
    assert post.status == PostStatus.DRAFT and post.text == TEXT

    # "Save draft" now saves that same draft (the form points at it), everything included.
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()
    assert Post.objects.count() == 1
    post.refresh_from_db()
    assert post.thread == ["Disponibles en boutique dès samedi."]
    assert post.variants.get(channel=bluesky).text == "Nos lampes arrivent ! #MaisonLumiere"
    assert post.variants.get(channel=mastodon).text is None

    # To the post page, then a client link.
    page.get_by_role("link", name="The post's page").click()
    page.get_by_label("Who will review it (optional)").fill("Claire Roux")
    page.get_by_role("button", name="Create the link").click()
    link = page.locator("#approval-url").inner_text().strip()
    assert link.startswith(f"{live_server.url}/a/")

    # The client, signed out, in another browser context.
    client_context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    client = client_context.new_page()
    client.set_default_timeout(10_000)
    client.goto(link)
    assert (
        client.locator(".pv-mastodon").count() == 1 and client.locator(".pv-bluesky").count() == 1
    )
    client.get_by_role("textbox", name=re.compile("name|nom", re.I)).fill("Claire Roux")
    client.get_by_role("button", name=re.compile("^(Approve|Valider)$")).click()
    client.locator(".message-success").wait_for()
    client_context.close()

    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.approved_by_name == "Claire Roux"
    deliveries = Delivery.objects.filter(post=post)
    assert {d.channel_id for d in deliveries} == {mastodon.pk, bluesky.pk}
    assert {d.state for d in deliveries} == {"scheduled"}

    # The team sees it on the post page; a phone-sized screen still shows the composer.
    page.reload()
    assert "Scheduled" in page.locator(".post-head").inner_text()
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/w/lumiere/publishing/posts/new/")
    assert page.get_by_role("button", name="Save draft").is_visible()
