"""Short links on the web: the public redirect and the workspace's links page."""

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tribu.channels.models import Channel, ChannelState
from tribu.core.roles import Role
from tribu.publishing.models import Post, ShortLink
from tribu.publishing.services import links

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.TRIBU_BASE_URL = "https://tribu.example"


def make_channel(workspace, network="mastodon", name="Acme on Mastodon", **fields):
    return Channel.objects.create(
        workspace=workspace, network=network, name=name, base_url="https://mastodon.example",
        account_id=secrets.token_hex(4), **fields,
    )  # fmt: skip


def page_url(workspace):
    return reverse("publishing:links", args=[workspace.slug])


def create_url(workspace):
    return reverse("publishing:link_create", args=[workspace.slug])


# The redirect -------------------------------------------------------------------------------------


def test_a_short_link_redirects_without_an_account_and_counts_the_click(workspace):
    link = links.shorten(workspace, "https://shop.example/lampe?ref=a#top")
    response = Client().get(f"/l/{link.code}", HTTP_USER_AGENT=FIREFOX)
    assert response.status_code == 302
    assert response["Location"] == link.target_url
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    link.refresh_from_db()
    assert (link.clicks, link.bot_clicks) == (1, 0)


def test_previews_and_head_requests_count_as_bots(workspace):
    link = links.shorten(workspace, "https://shop.example/")
    client = Client()
    client.get(f"/l/{link.code}", HTTP_USER_AGENT="Twitterbot/1.0")
    client.get(f"/l/{link.code}")  # no User-Agent at all
    response = client.head(f"/l/{link.code}", HTTP_USER_AGENT=FIREFOX)
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.clicks, link.bot_clicks) == (0, 3)


def test_unknown_codes_and_other_methods(workspace):
    link = links.shorten(workspace, "https://shop.example/")
    client = Client()
    assert client.get("/l/zzzzzzzz").status_code == 404
    assert client.get(f"/l/{link.code.upper()}x").status_code == 404
    assert client.post(f"/l/{link.code}").status_code == 405
    link.refresh_from_db()
    assert (link.clicks, link.bot_clicks) == (0, 0)


# The page -----------------------------------------------------------------------------------------


def test_the_page_lists_the_workspace_links_with_their_figures(
    owner_client, workspace, make_workspace
):
    channel = make_channel(workspace)
    post = Post.objects.create(workspace=workspace, text="Les soldes commencent")
    mine = links.shorten(workspace, "https://shop.example/soldes", post=post, channel=channel)
    for agent in (FIREFOX, FIREFOX, "Slackbot 1.0"):
        links.record_click(mine, user_agent=agent)
    other = make_workspace()
    theirs = links.shorten(other, "https://secret.example/plan")

    response = owner_client.get(page_url(workspace))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"https://tribu.example/l/{mine.code}" in body
    assert "https://shop.example/soldes" in body
    assert "Les soldes commencent" in body and "Acme on Mastodon" in body
    assert '<td class="clicks">2</td>' in body and '<td class="bot-clicks">1</td>' in body
    assert theirs.code not in body and "secret.example" not in body


def test_a_member_shortens_an_address_by_hand(owner_client, workspace):
    channel = make_channel(workspace)
    response = owner_client.post(
        create_url(workspace),
        {"url": " https://shop.example/a?x=1 ", "channel": channel.pk, "campaign": "rentree"},
    )
    link = ShortLink.objects.get(workspace=workspace)
    assert response.status_code == 302
    assert response["Location"] == f"{page_url(workspace)}?created={link.code}"
    params = parse_qs(urlsplit(link.target_url).query)
    assert params["utm_source"] == ["mastodon"] and params["utm_campaign"] == ["rentree"]
    assert params["x"] == ["1"]
    page = owner_client.get(response["Location"]).content.decode()
    assert f"Short link ready: https://tribu.example/l/{link.code}" in page
    assert f'id="link-{link.code}" class="is-new"' in page


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://shop.example/a", "Only web addresses"),
        ("https://tribu.example/l/abcdefgh", "already points to Tribu"),
        ("", "This field is required"),
    ],
)
def test_a_refused_address_is_explained_on_the_form(owner_client, workspace, url, words):
    response = owner_client.post(create_url(workspace), {"url": url})
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not ShortLink.objects.exists()


def test_channels_of_other_workspaces_and_disabled_ones_cannot_be_chosen(
    owner_client, workspace, make_workspace
):
    foreign = make_channel(make_workspace())
    disabled = make_channel(workspace, name="Old", state=ChannelState.DISABLED)
    for channel in (foreign, disabled):
        response = owner_client.post(
            create_url(workspace), {"url": "https://shop.example/", "channel": channel.pk}
        )
        assert response.status_code == 400
    assert not ShortLink.objects.exists()


def test_roles(workspace, make_member, client_for):
    viewer = client_for(make_member(workspace, Role.VIEWER))
    body = viewer.get(page_url(workspace)).content.decode()
    assert "Links of this workspace" in body and 'name="url"' not in body
    assert viewer.post(create_url(workspace), {"url": "https://shop.example/"}).status_code == 403
    contributor = client_for(make_member(workspace, Role.CONTRIBUTOR))
    assert 'name="url"' in contributor.get(page_url(workspace)).content.decode()
    response = contributor.post(create_url(workspace), {"url": "https://shop.example/"})
    assert response.status_code == 302
    assert ShortLink.objects.filter(workspace=workspace).count() == 1


def test_strangers_and_anonymous_visitors_get_nothing(workspace, make_user, client_for):
    assert client_for(make_user()).get(page_url(workspace)).status_code == 404
    response = Client().get(page_url(workspace))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
