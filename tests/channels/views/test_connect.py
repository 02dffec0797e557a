"""Connecting channels through the pages, against the contract fakes over real HTTP: the
Mastodon OAuth round trip (app registered once per instance, state and PKCE, consent denied,
errors), a pasted Mastodon token, a Bluesky app password, and reconnecting."""

from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tribu.channels.models import Channel, ChannelState, MastodonApp
from tribu.core.models import Membership
from tribu.core.roles import Role
from tribu.publishing.models import DeliveryState, HoldReason
from tribu.testing.fakes.bluesky import DEFAULT_APP_PASSWORD, DEFAULT_HANDLE
from tribu.testing.fakes.mastodon import TOKEN

from .conftest import broken, make_channel, make_delivery

CALLBACK = "/channels/oauth/mastodon/callback/"


def url(workspace, name, *args):
    return reverse(f"channels:{name}", args=[workspace.slug, *args])


def start(client, workspace, fake, **extra):
    """Submit the instance; return the authorize URL Tribu links the browser to (a link, not a
    redirect: the page's CSP form-action would block a POST redirected to the instance)."""
    response = client.post(
        url(workspace, "connect_mastodon"), {"oauth-instance": fake.base_url, **extra}
    )
    assert response.status_code == 200, response.content.decode()[-2000:]
    assert response.templates[0].name == "channels/continue.html"
    return response.context["authorize_url"]


def approve(authorize_url):
    """The user approves on the instance, which redirects to our callback with a code."""
    answer = urllib3.PoolManager().request("GET", authorize_url, redirect=False)
    assert answer.status == 302, answer.data
    parts = urlsplit(answer.headers["Location"])
    return parts.path, parse_qs(parts.query)


def callback(client, query, **changes):
    params = {key: values[0] for key, values in query.items()}
    params.update(changes)
    return client.get(CALLBACK, params)


def page(client, workspace):
    return client.get(url(workspace, "list")).content.decode()


def test_the_oauth_round_trip_connects_the_account(owner_client, workspace, mastodon_fake):
    authorize = start(owner_client, workspace, mastodon_fake)
    assert authorize.startswith(mastodon_fake.base_url + "/oauth/authorize?")
    asked = parse_qs(urlsplit(authorize).query)
    assert asked["redirect_uri"] == [settings.TRIBU_BASE_URL.rstrip("/") + CALLBACK]
    assert asked["code_challenge_method"] == ["S256"] and asked["state"][0]
    assert "write:statuses" in asked["scope"][0].split()
    path, query = approve(authorize)
    assert path == CALLBACK and query["state"] == asked["state"]

    response = callback(owner_client, query)
    assert response.status_code == 302 and response["Location"] == url(workspace, "list")
    channel = Channel.objects.get(workspace=workspace)
    assert (channel.network, channel.handle, channel.state) == (
        "mastodon", "@tribu@mastodon.example", ChannelState.ACTIVE,
    )  # fmt: skip
    assert channel.base_url == mastodon_fake.base_url
    token = channel.secret_values["access_token"]
    assert token in mastodon_fake.tokens and token != TOKEN
    body = page(owner_client, workspace)
    assert "“Tribu” (@tribu@mastodon.example) is connected." in body
    assert token not in body

    # The app is registered once per instance; the state is single use.
    start(owner_client, workspace, mastodon_fake)
    assert len(mastodon_fake.apps) == 1 and MastodonApp.objects.count() == 1
    response = callback(owner_client, query)
    assert response["Location"] == reverse("core:home")
    assert "does not match a connection started from this browser" in page(owner_client, workspace)
    assert Channel.objects.count() == 1


def test_a_foreign_state_is_refused_and_the_real_one_still_works(
    owner_client, workspace, mastodon_fake
):
    _path, query = approve(start(owner_client, workspace, mastodon_fake))
    response = callback(owner_client, query, state="forged")
    assert response["Location"] == reverse("core:home")
    assert not Channel.objects.exists()
    # Another browser (a session without the attempt) cannot finish it either, even signed
    # in as the same person.
    other = Client()
    other.force_login(workspace.memberships.get().user)
    assert callback(other, query)["Location"] == reverse("core:home")
    assert not Channel.objects.exists()
    callback(owner_client, query)
    assert Channel.objects.count() == 1


def test_declining_on_the_instance_connects_nothing(owner_client, workspace, mastodon_fake):
    authorize = start(owner_client, workspace, mastodon_fake)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    response = owner_client.get(
        CALLBACK, {"error": "access_denied", "error_description": "denied", "state": state}
    )
    assert response["Location"] == url(workspace, "list")
    assert "Connection cancelled on 127.0.0.1" in page(owner_client, workspace)
    assert not Channel.objects.exists()


def test_an_error_from_the_instance_is_shown_in_its_words(owner_client, workspace, mastodon_fake):
    authorize = start(owner_client, workspace, mastodon_fake)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    owner_client.get(
        CALLBACK, {"error": "server_error", "error_description": "Try later", "state": state}
    )
    body = page(owner_client, workspace)
    assert "127.0.0.1" in body and "did not authorize Tribu (Try later)" in body
    assert not Channel.objects.exists()


def test_the_registration_failing_is_explained_on_the_form(owner_client, workspace, mastodon_fake):
    mastodon_fake.fail(503, path="/api/v1/apps")
    response = owner_client.post(
        url(workspace, "connect_mastodon"), {"oauth-instance": mastodon_fake.base_url}
    )
    assert response.status_code == 400
    assert "127.0.0.1" in response.context["oauth_form"].errors["instance"][0]
    assert not MastodonApp.objects.exists()


def test_an_unreachable_or_private_instance_is_refused(owner_client, workspace, settings):
    response = owner_client.post(
        url(workspace, "connect_mastodon"), {"oauth-instance": "http://127.0.0.1:9"}
    )
    assert response.status_code == 400 and response.context["oauth_form"].errors["instance"]
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    response = owner_client.post(
        url(workspace, "connect_mastodon"), {"oauth-instance": "http://127.0.0.1:9"}
    )
    assert "TRIBU_ALLOW_PRIVATE_ADDRESSES" in response.context["oauth_form"].errors["instance"][0]
    response = owner_client.post(url(workspace, "connect_mastodon"), {"oauth-instance": "ftp://x"})
    assert response.status_code == 400
    assert not MastodonApp.objects.exists()


def test_a_failing_token_exchange_is_explained(owner_client, workspace, mastodon_fake):
    _path, query = approve(start(owner_client, workspace, mastodon_fake))
    mastodon_fake.fail(500, path="/oauth/token")
    response = callback(owner_client, query)
    assert response["Location"] == url(workspace, "list")
    assert "127.0.0.1" in page(owner_client, workspace)
    assert not Channel.objects.exists()


def test_an_instance_that_forgot_the_app_gets_a_new_one_next_time(
    owner_client, workspace, mastodon_fake
):
    _path, query = approve(start(owner_client, workspace, mastodon_fake))
    mastodon_fake.apps.clear()  # the instance's admin deleted the app
    callback(owner_client, query)
    assert "no longer knows the app Tribu registered there" in page(owner_client, workspace)
    assert not MastodonApp.objects.exists()
    _path, query = approve(start(owner_client, workspace, mastodon_fake))
    callback(owner_client, query)
    assert Channel.objects.count() == 1


def test_the_callback_rechecks_the_role(client_for, make_member, workspace, mastodon_fake):
    editor = make_member(workspace, Role.EDITOR)
    client = client_for(editor)
    _path, query = approve(start(client, workspace, mastodon_fake))
    Membership.objects.filter(user=editor).update(role=Role.VIEWER)
    assert callback(client, query).status_code == 403
    assert not Channel.objects.exists()


def test_connect_with_a_pasted_mastodon_token(owner_client, workspace, mastodon_fake):
    target = url(workspace, "connect_mastodon_token")
    response = owner_client.post(
        target, {"token-instance": mastodon_fake.base_url, "token-access_token": "wrong-token"}
    )
    body = response.content.decode()
    assert response.status_code == 400 and "refused this access token" in body
    assert "wrong-token" not in body
    response = owner_client.post(
        target, {"token-instance": mastodon_fake.base_url, "token-access_token": TOKEN}
    )
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert channel.secret_values == {"access_token": TOKEN}
    assert TOKEN not in page(owner_client, workspace)


def test_connect_bluesky_with_an_app_password(owner_client, workspace, bluesky_fake):
    target = url(workspace, "connect_bluesky")
    form = owner_client.get(target).content.decode()
    assert 'value="https://bsky.social"' in form and "App passwords" in form
    response = owner_client.post(
        target,
        {"bluesky-base_url": bluesky_fake.base_url, "bluesky-handle": "@" + DEFAULT_HANDLE,
         "bluesky-app_password": DEFAULT_APP_PASSWORD.upper()},
    )  # fmt: skip
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert (channel.network, channel.handle, channel.name) == (
        "bluesky",
        DEFAULT_HANDLE,
        "Tribu Test",
    )
    assert channel.secret_values["app_password"] == DEFAULT_APP_PASSWORD
    body = page(owner_client, workspace)
    assert DEFAULT_APP_PASSWORD not in body and channel.secret_values["access_jwt"] not in body


def test_bluesky_refuses_what_is_not_an_app_password_before_sending_it(
    owner_client, workspace, bluesky_fake
):
    target = url(workspace, "connect_bluesky")
    data = {"bluesky-base_url": bluesky_fake.base_url, "bluesky-handle": DEFAULT_HANDLE}
    response = owner_client.post(target, {**data, "bluesky-app_password": "MyMainPassword1!"})
    body = response.content.decode()
    assert response.status_code == 400 and "This is not an app password" in body
    assert "MyMainPassword1!" not in body and bluesky_fake.requests == []
    response = owner_client.post(target, {**data, "bluesky-app_password": "aaaa-bbbb-cccc-dddd"})
    assert (
        response.status_code == 400 and "Bluesky refused this handle" in response.content.decode()
    )
    assert not Channel.objects.exists()


def test_reconnecting_a_refused_channel_releases_its_posts(owner_client, workspace, bluesky_fake):
    channel = broken(
        make_channel(workspace, network="bluesky", name="Lumière", handle=DEFAULT_HANDLE,
                     base_url=bluesky_fake.base_url, account_id="did:plc:tributestaccount0000000a")
    )  # fmt: skip
    held = make_delivery(channel, DeliveryState.HELD, HoldReason.RECONNECT)
    form = owner_client.get(url(workspace, "reconnect", channel.pk)).content.decode()
    assert f'value="{DEFAULT_HANDLE}"' in form and f'value="{bluesky_fake.base_url}"' in form
    assert f'name="bluesky-channel" value="{channel.pk}"' in form
    assert "Reconnect Bluesky" in form and "Connect with Mastodon" not in form
    owner_client.post(
        url(workspace, "connect_bluesky"),
        {"bluesky-base_url": bluesky_fake.base_url, "bluesky-handle": DEFAULT_HANDLE,
         "bluesky-app_password": DEFAULT_APP_PASSWORD, "bluesky-channel": channel.pk},
    )  # fmt: skip
    channel.refresh_from_db()
    held.refresh_from_db()
    assert channel.state == ChannelState.ACTIVE and channel.problem_code == ""
    assert held.state == DeliveryState.SCHEDULED
    assert Channel.objects.count() == 1


def test_reconnecting_with_another_account_says_so(owner_client, workspace, bluesky_fake):
    channel = broken(
        make_channel(workspace, network="bluesky", name="Lumière", handle="old.bsky.social",
                     base_url=bluesky_fake.base_url, account_id="did:plc:old")
    )  # fmt: skip
    owner_client.post(
        url(workspace, "connect_bluesky"),
        {"bluesky-base_url": bluesky_fake.base_url, "bluesky-handle": DEFAULT_HANDLE,
         "bluesky-app_password": DEFAULT_APP_PASSWORD, "bluesky-channel": channel.pk},
    )  # fmt: skip
    assert "is not the account of “Lumière”" in page(owner_client, workspace)
    channel.refresh_from_db()
    assert channel.state == ChannelState.RECONNECT and Channel.objects.count() == 2


def test_connecting_a_disabled_channel_again_releases_its_posts(
    owner_client, workspace, mastodon_fake
):
    owner_client.post(
        url(workspace, "connect_mastodon_token"),
        {"token-instance": mastodon_fake.base_url, "token-access_token": TOKEN},
    )
    channel = Channel.objects.get()
    delivery = make_delivery(channel)
    owner_client.post(url(workspace, "disable", channel.pk))
    owner_client.post(
        url(workspace, "connect_mastodon_token"),
        {"token-instance": mastodon_fake.base_url, "token-access_token": TOKEN},
    )
    channel.refresh_from_db()
    delivery.refresh_from_db()
    assert channel.state == ChannelState.ACTIVE and delivery.state == DeliveryState.SCHEDULED


def test_a_reconnect_form_naming_another_workspaces_channel_is_404(
    owner_client, workspace, make_workspace, bluesky_fake
):
    theirs = make_channel(make_workspace(), network="bluesky", name="Theirs")
    response = owner_client.post(
        url(workspace, "connect_bluesky"),
        {"bluesky-base_url": bluesky_fake.base_url, "bluesky-handle": DEFAULT_HANDLE,
         "bluesky-app_password": DEFAULT_APP_PASSWORD, "bluesky-channel": theirs.pk},
    )  # fmt: skip
    assert response.status_code == 404
    assert bluesky_fake.requests == [] and not Channel.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize("name", ["connect_mastodon", "connect_mastodon_token", "connect_bluesky"])
def test_only_channel_managers_connect(client_for, make_member, workspace, name):
    for role, status in ((Role.EDITOR, 200), (Role.APPROVER, 403), (Role.VIEWER, 403)):
        client = client_for(make_member(workspace, role))
        assert client.get(url(workspace, name)).status_code == status
        assert client.post(url(workspace, name)).status_code == (400 if status == 200 else 403)
