"""The publishing API as a script drives it: connect Mastodon and Bluesky against their
contract fakes, create a post for both, let the publisher run, read the deliveries back."""

from datetime import UTC, datetime, timedelta

import pytest
from api.conftest import api_as, fast_user, team, token_for  # noqa: F401, F811
from django.utils import timezone

from tribu.core.roles import Role
from tribu.core.tick import beat
from tribu.publishing import publisher
from tribu.publishing.services import deliveries as deliveries_service
from tribu.testing.fakes.bluesky import DEFAULT_APP_PASSWORD, DEFAULT_HANDLE
from tribu.testing.fakes.mastodon import TOKEN

WORKER = "api-test:1"


@pytest.fixture(autouse=True)
def loopback(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def mastodon(mastodon_fake):
    return mastodon_fake


@pytest.fixture
def bluesky(bluesky_fake):
    return bluesky_fake


@pytest.fixture
def api(team, api_as):  # noqa: F811
    return api_as(team["workspace"], team[Role.OWNER])


def connect_both(api, mastodon, bluesky):
    first = api.post("channels", {"network": "mastodon", "base_url": mastodon.base_url,
                                  "access_token": TOKEN})  # fmt: skip
    assert first.status_code == 201, first.content
    second = api.post("channels", {
        "network": "bluesky", "base_url": bluesky.base_url, "handle": DEFAULT_HANDLE,
        "app_password": DEFAULT_APP_PASSWORD,
    })  # fmt: skip
    assert second.status_code == 201, second.content
    return first.json()["id"], second.json()["id"]


def publish_due():
    now = timezone.now()
    beat(WORKER, now)
    for pk in publisher.claim_due(WORKER, now, 50):
        publisher.send(pk, WORKER)


def test_connect_post_and_read_the_deliveries(api, mastodon, bluesky):
    mastodon_id, bluesky_id = connect_both(api, mastodon, bluesky)
    listed = api.get("channels").json()["items"]
    assert {c["network"]: c["state"] for c in listed} == {"mastodon": "active", "bluesky": "active"}

    publish_at = (timezone.now() - timedelta(seconds=1)).isoformat()
    created = api.post("posts", {"text": "Bonjour #MardiConseil https://tribu.example/a",
                                 "channels": [mastodon_id, bluesky_id],
                                 "publish_at": publish_at})  # fmt: skip
    assert created.status_code == 201, created.content
    post = created.json()
    assert post["status"] == "scheduled"
    assert {d["channel"]: d["state"] for d in post["deliveries"]} == {
        mastodon_id: "scheduled",
        bluesky_id: "scheduled",
    }

    publish_due()
    post = api.get(f"posts/{post['id']}").json()
    assert post["status"] == "published"
    by_channel = {d["channel"]: d for d in post["deliveries"]}
    assert by_channel[mastodon_id]["state"] == "published"
    assert by_channel[mastodon_id]["url"].startswith("https://mastodon.example/@tribu/")
    assert by_channel[bluesky_id]["state"] == "published"
    assert by_channel[bluesky_id]["url"].startswith("https://bsky.app/profile/")
    assert len(mastodon.statuses) == 1 and len(bluesky.records()) == 1

    log = api.get(f"deliveries/{by_channel[bluesky_id]['id']}").json()["log"]
    assert [line["event"] for line in log][-1] == "published"
    assert any(line["status_code"] == 200 for line in log if line["event"] == "request")


def test_loopback_channels_are_refused_unless_allowed(api, mastodon, settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = False
    response = api.post("channels", {"network": "mastodon", "base_url": mastodon.base_url,
                                     "access_token": TOKEN})  # fmt: skip
    assert response.status_code == 422
    assert "TRIBU_ALLOW_PRIVATE_ADDRESSES" in response.json()["errors"]["base_url"][0]


def test_bad_credentials_and_missing_fields_are_explained(api, mastodon):
    response = api.post("channels", {"network": "mastodon", "base_url": mastodon.base_url,
                                     "access_token": "wrong"})  # fmt: skip
    assert response.status_code == 422 and response.json()["code"] == "token_invalid"
    response = api.post("channels", {"network": "bluesky", "handle": "brand.bsky.social"})
    assert response.status_code == 422 and "app_password" in response.json()["errors"]


def test_a_workspace_requiring_approval_sends_posts_for_review(api, team, mastodon, bluesky):  # noqa: F811
    settings = deliveries_service.settings_for(team["workspace"])
    settings.require_approval = True
    settings.save()
    mastodon_id, _bluesky_id = connect_both(api, mastodon, bluesky)
    post = api.post("posts", {"text": "À valider", "channels": [mastodon_id],
                              "publish_at": "2030-01-07T09:00:00+01:00"}).json()  # fmt: skip
    assert post["status"] == "in_review" and post["deliveries"] == []
    approved = api.post(f"posts/{post['id']}/approve", {"comment": "OK"}).json()
    assert approved["status"] == "scheduled"
    assert approved["deliveries"][0]["due_at"] == "2030-01-07T08:00:00Z"


def test_content_a_network_refuses_is_refused_before_scheduling(api, mastodon, bluesky):
    _mastodon_id, bluesky_id = connect_both(api, mastodon, bluesky)
    response = api.post("posts", {"text": "é" * 301, "channels": [bluesky_id]})
    assert response.status_code == 422, response.content
    assert "Bluesky" in response.json()["message"]


def test_naive_times_and_posts_by_period(api, mastodon, bluesky):
    mastodon_id, _bluesky_id = connect_both(api, mastodon, bluesky)
    response = api.post("posts", {"text": "Sans fuseau", "channels": [mastodon_id],
                                  "publish_at": "2030-01-07T09:00:00"})  # fmt: skip
    assert response.status_code == 422 and "publish_at" in response.json()["errors"]
    for day in (6, 7, 8):
        at = datetime(2030, 1, day, 9, tzinfo=UTC).isoformat()
        api.post("posts", {"text": f"Le {day}", "channels": [mastodon_id], "draft": True,
                           "publish_at": at})  # fmt: skip
    page = api.get("posts?start=2030-01-07T00:00:00Z&end=2030-01-08T00:00:00Z").json()
    assert [post["text"] for post in page["items"]] == ["Le 7"]


def test_edit_then_pause_and_resume(api, mastodon, bluesky):
    mastodon_id, _bluesky_id = connect_both(api, mastodon, bluesky)
    post = api.post("posts", {"text": "Plus tard", "channels": [mastodon_id],
                              "publish_at": "2030-01-07T09:00:00Z"}).json()  # fmt: skip
    edited = api.patch(f"posts/{post['id']}", {"publish_at": "2030-01-08T09:00:00Z"}).json()
    assert edited["deliveries"][0]["due_at"] == "2030-01-08T09:00:00Z"
    paused = api.post("publishing/pause", {"reason": "Bad buzz"}).json()
    assert paused["paused"] is True and paused["held"] == 1
    assert api.get(f"posts/{post['id']}").json()["deliveries"][0]["state"] == "held"
    resumed = api.post("publishing/resume").json()
    assert resumed["released"] == [edited["deliveries"][0]["id"]] and resumed["stale"] == []
    assert api.get(f"posts/{post['id']}").json()["deliveries"][0]["state"] == "scheduled"


@pytest.fixture
def app_fakes(settings):
    from tribu.testing.fakes import linkedin as linkedin_fake
    from tribu.testing.fakes import x as x_fake

    with linkedin_fake.LinkedInFake() as linkedin, x_fake.XFake() as x:
        settings.TRIBU_NETWORK_APPS = {
            **settings.TRIBU_NETWORK_APPS,
            "linkedin": {"client_id": "", "client_secret": "", "api_url": linkedin.base_url,
                         "auth_url": linkedin.base_url, "version": linkedin_fake.VERSION},
            "x": {"client_id": x_fake.CLIENT_ID, "client_secret": x_fake.CLIENT_SECRET,
                  "api_url": x.base_url, "auth_url": x.base_url, "version": ""},
        }  # fmt: skip
        yield linkedin, x


def test_linkedin_and_x_connect_with_pasted_tokens_at_the_configured_address(api, app_fakes):
    from tribu.testing.fakes import linkedin as linkedin_fake
    from tribu.testing.fakes import x as x_fake

    linkedin, x = app_fakes
    page = api.post("channels", {"network": "linkedin", "access_token": linkedin_fake.TOKEN,
                                 "account_id": linkedin_fake.ORG_URN})  # fmt: skip
    assert page.status_code == 201, page.content
    assert page.json()["base_url"] == linkedin.base_url  # no base_url given: the app's
    assert page.json()["handle"]
    expires = (timezone.now() + timedelta(hours=2)).isoformat()
    account = api.post("channels", {"network": "x", "access_token": x_fake.TOKEN,
                                    "refresh_token": x_fake.REFRESH_TOKEN,
                                    "expires_at": expires})  # fmt: skip
    assert account.status_code == 201, account.content
    assert account.json()["handle"] == f"@{x_fake.USERNAME}"
    assert account.json()["token_expires_at"] is not None


def test_a_pasted_token_that_is_missing_or_refused_is_explained(api, app_fakes):
    missing = api.post("channels", {"network": "x"})
    assert missing.status_code == 422 or missing.status_code == 400
    assert "access_token" in missing.content.decode()
    refused = api.post("channels", {"network": "x", "access_token": "not-a-token"})
    assert refused.status_code == 422, refused.content
    assert refused.json()["message"]
    pages = api.post("channels", {"network": "linkedin", "access_token": "linkedin-member-token",
                                  "account_id": "urn:li:organization:999"})  # fmt: skip
    assert pages.status_code == 422, pages.content
