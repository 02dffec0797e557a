"""The publishing calendar in a real browser: see a post in the month, drag it to another day,
move it again with the keyboard-accessible Move form, drag it to another hour of the week,
find it in the list, then create a weekly ritual and see its occurrences in the calendar."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tribu.channels.models import Channel
from tribu.core.services.workspaces import create_workspace
from tribu.publishing.models import Post, PostVariant, Ritual
from tribu.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")


def seed(owner):
    workspace = create_workspace(slug="lumiere", name="Maison Lumière", owner=owner)
    channel = Channel.objects.create(
        workspace=workspace,
        network="mastodon",
        name="Lumière sur Mastodon",
        account_id="1",
        base_url="https://mastodon.example",
    )
    # Tuesday 8 October 2030, 10:00 in Paris.
    post = Post.objects.create(
        workspace=workspace,
        title="Lancement des lampes",
        text="Nos lampes arrivent !",
        publish_at=datetime(2030, 10, 8, 8, 0, tzinfo=UTC),
    )
    PostVariant.objects.create(post=post, channel=channel)
    return workspace, channel, post


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/"))


def local(post):
    post.refresh_from_db()
    return post.publish_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")


def test_calendar(page, live_server, make_user):
    owner = make_user("alice@example.com", name="Alice")
    _workspace, channel, post = seed(owner)
    sign_in(page, live_server)
    chip = f"#cal-post-{post.pk}"

    # The month shows the post on its day.
    page.goto(f"{live_server.url}/w/lumiere/publishing/?date=2030-10-08")
    assert "October 2030" in page.get_by_role("heading", level=2).first.inner_text()
    page.locator(f'td[data-day="2030-10-08"] {chip}').wait_for()
    assert "10:00" in page.locator(chip).inner_text()

    # Drag it to Thursday: same time of day.
    page.locator(chip).drag_to(page.locator('td[data-day="2030-10-10"]'))
    page.locator(f'td[data-day="2030-10-10"] {chip}').wait_for()
    message = "“Lancement des lampes” moved to Thursday 10 October 2030, 10:00."
    expect(page.locator("[data-calendar-message]")).to_have_text(message)
    expect(page.locator("#cal-live")).to_have_text(message)  # announced to screen readers
    assert local(post) == "2030-10-10 10:00"

    # The same with the keyboard: the Move button opens a small form.
    page.locator(f"{chip} summary").focus()
    page.keyboard.press("Enter")
    page.locator(chip).get_by_label("New date").fill("2030-10-15")
    page.locator(chip).get_by_label("New time").fill("11:30")
    page.locator(chip).get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    page.locator(f'td[data-day="2030-10-15"] {chip}').wait_for()
    assert local(post) == "2030-10-15 11:30"
    # Focus comes back to the moved post.
    assert page.evaluate("document.activeElement.closest('[data-post]')?.id") == chip[1:]
    # Escape closes an open Move form and gives the focus back to its button.
    page.locator(f"{chip} summary").focus()
    page.keyboard.press("Enter")
    page.locator(chip).get_by_label("New date").focus()
    page.keyboard.press("Escape")
    expect(page.locator(chip).get_by_label("New date")).to_be_hidden()
    expect(page.locator(f"{chip} summary")).to_be_focused()

    # The week view: one column per day, one row per hour; drag to another day and hour.
    page.get_by_role("link", name="Week", exact=True).click()
    page.wait_for_url(re.compile(r"view=week"))
    page.get_by_role("link", name="Next week").click()
    page.locator(f'td[data-day="2030-10-15"][data-hour="11"] {chip}').wait_for()
    page.locator(chip).drag_to(page.locator('td[data-day="2030-10-16"][data-hour="14"]'))
    page.locator(f'td[data-day="2030-10-16"][data-hour="14"] {chip}').wait_for()
    assert local(post) == "2030-10-16 14:30"

    # The list view.
    page.get_by_role("link", name="List", exact=True).click()
    page.wait_for_url(re.compile(r"view=list"))
    assert "14:30" in page.locator(f".cal-list {chip}").inner_text()

    # A weekly ritual, from today: its drafts appear in the calendar under its name.
    page.get_by_role("link", name="Rituals", exact=True).first.click()
    page.get_by_role("link", name="New ritual").click()
    page.get_by_label("Name").fill("#MardiConseil")
    page.get_by_label("Every week, on the days chosen below").check()
    # Only the chosen frequency's fields show.
    expect(page.get_by_label("Day of the month:")).to_be_hidden()
    expect(page.get_by_role("checkbox", name="Tuesday", exact=True)).to_be_visible()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        page.get_by_role("checkbox", name=day, exact=True).set_checked(day == "Tuesday")
    page.get_by_label("Time:", exact=True).fill("09:00")
    page.get_by_label("Lumière sur Mastodon").check()
    page.get_by_label("Template text").fill("Le conseil du mardi : ")
    page.get_by_role("button", name="Create the ritual").click()
    page.get_by_text("drafts were added to the calendar").wait_for()
    ritual = Ritual.objects.get(name="#MardiConseil")
    assert ritual.rule == "FREQ=WEEKLY;BYDAY=TU"
    first = Post.objects.filter(ritual=ritual).order_by("publish_at").first()
    day = timezone.localtime(first.publish_at, PARIS).date()
    assert day.weekday() == 1 and day - timezone.localdate(timezone=PARIS) < timedelta(days=8)
    assert page.locator("table.occurrences tbody tr").count() >= 7

    page.goto(f"{live_server.url}/w/lumiere/publishing/?view=week&date={day.isoformat()}")
    occurrence = page.locator(
        f'td[data-day="{day.isoformat()}"][data-hour="9"] #cal-post-{first.pk}'
    )
    assert "#MardiConseil" in occurrence.inner_text()
    assert channel.name in occurrence.locator(".cal-network").get_attribute("title")

    # On a phone the month lists the days that have posts, each post still with its Move form.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/w/lumiere/publishing/?date={day.isoformat()}")
    expect(page.locator(f"#cal-post-{first.pk}")).to_be_visible()
    expect(page.locator(f"#cal-post-{first.pk} summary")).to_be_visible()
