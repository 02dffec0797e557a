"""Connecting through the operator's app (views/oauth.py), against the X and LinkedIn contract
fakes over real HTTP: the round trip with state and PKCE, the account chooser, a denied or
replayed answer, an unconfigured app, a pasted token, and a reconnection."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tribu.channels.models import Channel, ChannelState
from tribu.core.models import AuditEvent, Membership
from tribu.core.roles import Role
from tribu.listening.fetch.http import send
from tribu.testing.fakes import linkedin as linkedin_fake
from tribu.testing.fakes import x as x_fake
from tribu.testing.fakes.linkedin import LinkedInFake
from tribu.testing.fakes.x import XFake

from .conftest import broken


def app(fake, client_id, client_secret, version=""):
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "api_url": fake.base_url,
        "auth_url": fake.base_url,
        "version": version,
    }


@pytest.fixture
def x(settings):
    with XFake() as fake:
        settings.TRIBU_NETWORK_APPS = {
            **settings.TRIBU_NETWORK_APPS,
            "x": app(fake, x_fake.CLIENT_ID, x_fake.CLIENT_SECRET),
        }
        yield fake


@pytest.fixture
def linkedin(settings):
    with LinkedInFake() as fake:
        settings.TRIBU_NETWORK_APPS = {
            **settings.TRIBU_NETWORK_APPS,
            "linkedin": app(
                fake, linkedin_fake.CLIENT_ID, linkedin_fake.CLIENT_SECRET, linkedin_fake.VERSION
            ),
        }
        yield fake


def start(client, workspace, network, channel=None):
    """Press "Connect with …": the continue page, and the network's authorize URL."""
    data = {f"{network}-oauth-channel": channel.pk} if channel else {}
    response = client.post(reverse("channels:connect_app", args=[workspace.slug, network]), data)
    assert response.status_code == 200
    link = re.search(r'id="authorize-link" href="([^"]+)"', response.content.decode())
    return response, link.group(1).replace("&amp;", "&")


def authorize(authorize_url):
    """The browser's visit to the network: the fake approves and redirects back."""
    answer = send("GET", authorize_url)
    assert answer.status == 302, answer.body[:300]
    location = urlsplit(answer.headers["location"])
    return f"{location.path}?{location.query}", parse_qs(location.query)


def test_x_round_trip_connects_the_account_with_pkce(owner_client, workspace, x):
    response, authorize_url = start(owner_client, workspace, "x")
    assert "Continue to 127.0.0.1" in response.content.decode()
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/channels/oauth/x/callback/"]
    callback, answer = authorize(authorize_url)
    assert answer["state"] == query["state"]
    response = owner_client.get(callback, follow=True)
    channel = Channel.objects.get(workspace=workspace, network="x")
    assert channel.handle == f"@{x_fake.USERNAME}"
    assert channel.base_url == x.base_url
    assert channel.secret_values["refresh_token"]
    assert channel.token_expires_at is not None and channel.next_refresh_at is not None
    assert "is connected" in response.content.decode()
    assert AuditEvent.objects.filter(action="channel.connected").exists()
    # The state is single use: the same answer again connects nothing more.
    again = owner_client.get(callback, follow=True)
    assert "does not match a connection" in again.content.decode()
    assert Channel.objects.filter(network="x").count() == 1


def test_a_linkedin_member_chooses_the_pages_to_connect(owner_client, workspace, linkedin):
    _response, authorize_url = start(owner_client, workspace, "linkedin")
    callback, _answer = authorize(authorize_url)
    response = owner_client.get(callback)
    chooser = reverse("channels:choose_accounts", args=[workspace.slug, "linkedin"])
    assert response.status_code == 302 and response.url == chooser
    page = owner_client.get(chooser).content.decode()
    assert linkedin_fake.MEMBER_NAME in page
    assert linkedin_fake.ORG_URN in page and linkedin_fake.SECOND_ORG_URN in page
    # The analyst's page cannot be posted to, so it is not offered.
    assert f"urn:li:organization:{linkedin_fake.ANALYST_ORG_ID}" not in page
    # Nothing ticked: asked again, nothing connected.
    response = owner_client.post(chooser, {})
    assert response.status_code == 400 and "Tick at least one" in response.content.decode()
    response = owner_client.post(
        chooser, {"account": [linkedin_fake.ORG_URN, linkedin_fake.MEMBER_URN]}, follow=True
    )
    channels = {c.account_id: c for c in Channel.objects.filter(network="linkedin")}
    assert set(channels) == {linkedin_fake.ORG_URN, linkedin_fake.MEMBER_URN}
    assert channels[linkedin_fake.ORG_URN].account_kind == "organization"
    assert channels[linkedin_fake.MEMBER_URN].account_kind == "profile"
    assert "are connected" in response.content.decode()
    # The pending grant is used up.
    assert owner_client.get(chooser).status_code == 302


def test_the_pending_grant_is_encrypted_in_the_session(owner_client, workspace, linkedin):
    _response, authorize_url = start(owner_client, workspace, "linkedin")
    callback, _answer = authorize(authorize_url)
    owner_client.get(callback)
    pending = owner_client.session["channels_app_pending"]
    assert linkedin_fake.TOKEN not in str(pending)
    assert "access_token" not in str(pending)


def test_a_denied_authorization_connects_nothing(owner_client, workspace, x):
    x.deny_next = True
    _response, authorize_url = start(owner_client, workspace, "x")
    callback, answer = authorize(authorize_url)
    assert answer["error"] == ["access_denied"]
    response = owner_client.get(callback, follow=True)
    assert "Connection cancelled on X" in response.content.decode()
    assert not Channel.objects.exists()


def test_an_unconfigured_app_explains_what_the_operator_must_do(owner_client, workspace, settings):
    settings.TRIBU_NETWORK_APPS = {
        **settings.TRIBU_NETWORK_APPS,
        "threads": {"client_id": "", "client_secret": "", "api_url": "https://graph.threads.net",
                    "auth_url": "https://threads.net", "version": "v1.0"},
    }  # fmt: skip
    page = owner_client.get(reverse("channels:connect_app", args=[workspace.slug, "threads"]))
    html = page.content.decode()
    assert "TRIBU_THREADS_CLIENT_ID" in html
    assert re.search(r"<button type=\"submit\" disabled", html)
    response = owner_client.post(reverse("channels:connect_app", args=[workspace.slug, "threads"]))
    assert response.status_code == 400
    assert "no app registered on Threads" in response.content.decode()


def test_an_unknown_network_is_a_404(owner_client, workspace):
    assert owner_client.get(f"/w/{workspace.slug}/channels/connect/app/myspace/").status_code == 404


def test_a_pasted_x_token_connects_the_account(owner_client, workspace, x):
    response = owner_client.post(
        reverse("channels:connect_app_token", args=[workspace.slug, "x"]),
        {"x-token-access_token": x_fake.TOKEN},
        follow=True,
    )
    assert "is connected" in response.content.decode()
    assert Channel.objects.get(network="x").secret_values["access_token"] == x_fake.TOKEN


def test_a_wrong_pasted_token_is_explained_on_the_form(owner_client, workspace, x):
    response = owner_client.post(
        reverse("channels:connect_app_token", args=[workspace.slug, "x"]),
        {"x-token-access_token": "not-a-token"},
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode() or "errorlist" in response.content.decode()
    assert not Channel.objects.exists()


def test_reconnecting_through_the_app_releases_the_channel(owner_client, workspace, linkedin):
    _response, authorize_url = start(owner_client, workspace, "linkedin")
    callback, _answer = authorize(authorize_url)
    owner_client.get(callback)
    chooser = reverse("channels:choose_accounts", args=[workspace.slug, "linkedin"])
    owner_client.post(chooser, {"account": [linkedin_fake.ORG_URN]})
    channel = broken(Channel.objects.get(network="linkedin"))
    assert channel.state == ChannelState.RECONNECT
    # Reconnecting the page skips the chooser: the grant reaches the channel's account.
    _response, authorize_url = start(owner_client, workspace, "linkedin", channel=channel)
    callback, _answer = authorize(authorize_url)
    response = owner_client.get(callback)
    assert response.status_code == 302 and response.url.endswith(f"/w/{workspace.slug}/channels/")
    channel.refresh_from_db()
    assert channel.state == ChannelState.ACTIVE
    assert Channel.objects.filter(network="linkedin").count() == 1


def test_a_member_who_may_not_manage_channels_cannot_finish(owner_client, user, workspace, x):
    _response, authorize_url = start(owner_client, workspace, "x")
    callback, _answer = authorize(authorize_url)
    # The owner's role changes between the start and the answer.
    Membership.objects.filter(user=user, workspace=workspace).update(role=Role.VIEWER)
    assert owner_client.get(callback).status_code == 403
    assert not Channel.objects.exists()
