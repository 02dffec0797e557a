"""The calendar's ICS feed: a secret address that calendar applications open without signing
in; any other token is a 404."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from tribu.publishing.models import Post, PublishingSettings
from tribu.publishing.services.ics import ensure_token, rotate_token


@pytest.fixture(autouse=True)
def no_base_url(settings):
    settings.TRIBU_BASE_URL = ""


@pytest.fixture
def publishing(workspace):
    return PublishingSettings.objects.create(workspace=workspace)


def feed_url(token):
    return reverse("publishing:ics", args=[token])


def uids(response):
    calendar = Calendar.from_ical(response.content)
    return {str(event["uid"]) for event in calendar.walk("VEVENT")}


def test_the_feed_needs_no_sign_in_and_lists_the_workspaces_posts(publishing, workspace,
                                                                  make_workspace):  # fmt: skip
    soon = timezone.now() + timedelta(days=2)
    post = Post.objects.create(workspace=workspace, title="Launch", publish_at=soon)
    other = make_workspace()
    Post.objects.create(workspace=other, title="Not ours", publish_at=soon)
    token = ensure_token(publishing)
    response = Client().get(feed_url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "private" in cache and "public" not in cache
    assert uids(response) == {f"post-{post.pk}@tribu"}
    assert "Launch" in response.content.decode()


def test_the_address_is_the_one_the_settings_page_builds(publishing):
    token = ensure_token(publishing)
    assert feed_url(token) == f"/ics/{token}.ics"


@pytest.mark.parametrize("token", ["unknown", "x" * 300, "-"])
def test_unknown_tokens_are_not_found(publishing, token):
    ensure_token(publishing)
    assert Client().get(feed_url(token)).status_code == 404


def test_a_rotated_token_stops_working_at_once(publishing):
    old = ensure_token(publishing)
    new = rotate_token(publishing)
    client = Client()
    assert client.get(feed_url(old)).status_code == 404
    assert client.get(feed_url(new)).status_code == 200


def test_the_feed_only_answers_reads(publishing):
    token = ensure_token(publishing)
    client = Client()
    assert client.head(feed_url(token)).status_code == 200
    assert client.post(feed_url(token)).status_code == 405
