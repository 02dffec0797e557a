"""Bulk CSV import in a real browser: a file with one bad row shows the row-by-row report
and imports nothing; the fixed file is previewed, confirmed, and its posts are scheduled."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tribu.channels.models import Channel
from tribu.core.services.workspaces import create_workspace
from tribu.publishing.models import Post, PostStatus
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lumiere(make_user):
    owner = make_user("alice@example.com", name="Alice")
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    Channel.objects.create(
        workspace=workspace, network="mastodon", name="Lumière sur Mastodon",
        base_url="https://mastodon.example", account_id="1",
    )  # fmt: skip
    return workspace


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))


def french_csv(second_channel):
    """Two posts next week, as French Excel saves them: BOM, semicolons, day first."""
    day = timezone.localdate() + timedelta(days=7)
    lines = [
        "texte;date;canaux",
        f"Bonne semaine à tous !;{day:%d/%m/%Y} 09:00;Lumière sur Mastodon",
        f"Nouvelle lampe Aube;{day:%d/%m/%Y} 18:30;{second_channel}",
    ]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


def choose(page, content):
    page.get_by_label("CSV file").set_input_files(
        {"name": "posts.csv", "mimeType": "text/csv", "buffer": content.encode()}
    )
    page.get_by_role("button", name="Check the file").click()


def test_a_bad_row_stops_everything_then_the_fixed_file_imports(page, live_server, lumiere):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/lumiere/publishing/import/")

    choose(page, french_csv("Lumière sur Bluesky"))
    expect(
        page.get_by_role("heading", name="Nothing was imported: 1 problem to fix")
    ).to_be_visible()
    rows = page.locator("table.import-errors tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.nth(0).locator("td").nth(0)).to_have_text("3")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("canaux")
    expect(rows.nth(0)).to_contain_text("No channel “Lumière sur Bluesky” in this workspace")
    assert not Post.objects.exists()

    choose(page, french_csv("Lumière sur Mastodon"))
    expect(page.get_by_role("heading", name="2 posts are ready to import")).to_be_visible()
    expect(page.get_by_text("Lumière sur Mastodon: 2 posts")).to_be_visible()
    assert not Post.objects.exists()
    page.get_by_role("button", name="Import 2 posts").click()
    expect(page.get_by_text("2 posts imported. 2 are scheduled.")).to_be_visible()

    posts = list(Post.objects.filter(workspace=lumiere).order_by("publish_at"))
    assert [post.text for post in posts] == ["Bonne semaine à tous !", "Nouvelle lampe Aube"]
    assert {post.status for post in posts} == {PostStatus.SCHEDULED}
    local = timezone.localtime(posts[0].publish_at, lumiere.tzinfo)
    assert (local.hour, local.minute) == (9, 0)
    assert all(post.deliveries.count() == 1 for post in posts)
