"""The publishing calendar: month, week and list views in the workspace's zone, filters,
navigation, the next free slot, and moving a post (form, htmx, roles, daylight saving)."""

import re
import secrets
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
import time_machine
from django.urls import reverse

from tribu.channels.models import Channel, ChannelState
from tribu.core.roles import Role
from tribu.publishing.models import (
    Delivery,
    DeliveryState,
    Post,
    PostStatus,
    PostVariant,
    QueueSlot,
    Ritual,
)
from tribu.publishing.services import posts as post_service

# Clocks go back in Europe/Paris on Sunday 27 October 2030 (03:00 CEST → 02:00 CET).
NOW = datetime(2030, 10, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def make_channel(workspace, network="mastodon", name=None, **fields):
    return Channel.objects.create(
        workspace=workspace,
        network=network,
        name=name or f"{network.title()} account",
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


def make_post(workspace, at, *channels, text="Bonjour", status=PostStatus.DRAFT, **fields):
    post = Post.objects.create(
        workspace=workspace, text=text, publish_at=at, status=status, **fields
    )
    for channel in channels:
        PostVariant.objects.create(post=post, channel=channel)
    return post


def calendar_url(workspace, **params):
    url = reverse("publishing:calendar", args=[workspace.slug])
    query = "&".join(
        f"{name}={value}"
        for name, values in params.items()
        for value in (values if isinstance(values, list) else [values])
    )
    return f"{url}?{query}" if query else url


def move_url(workspace, post):
    return reverse("publishing:post_move", args=[workspace.slug, post.pk])


def page(response):
    assert response.status_code == 200, response.content[:500]
    return lxml.html.fromstring(response.content.decode())


SIMPLE = re.compile(r"^(\w+|\*)?((?:\.[\w-]+)*)((?:\[[\w-]+(?:=\"[^\"]*\")?\])*)$")


def css(node, selector):
    """The elements under `node` matching a small CSS selector (tags, classes, attributes,
    descendants): lxml's cssselect needs a package the project does not have."""
    steps = []
    for simple in selector.split():
        tag, classes, attributes = SIMPLE.match(simple).groups()
        tests = [
            f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
            for name in classes.split(".")
            if name
        ]
        for name, value in re.findall(r'\[([\w-]+)(?:="([^"]*)")?\]', attributes):
            tests.append(f'@{name}="{value}"' if "=" in simple and value else f"@{name}")
        steps.append((tag or "*") + "".join(f"[{test}]" for test in tests))
    return node.xpath(".//" + "//".join(steps))


def posts_in(tree, selector):
    """{cell key: [post ids]} for the cells matching `selector`."""
    cells = {}
    for cell in css(tree, selector):
        key = (cell.get("data-day"), cell.get("data-hour"))
        ids = [int(post.get("data-post")) for post in css(cell, "[data-post]")]
        if ids:
            cells[key] = ids
    return cells


# Month ---------------------------------------------------------------------------------


def test_a_late_evening_post_is_on_its_local_day_not_utcs(owner_client, workspace, mastodon):
    workspace.timezone = "America/New_York"
    workspace.save()
    # 23:30 in New York on Friday 11 October is 03:30 UTC on the 12th.
    post = make_post(workspace, utc(2030, 10, 12, 3, 30), mastodon, title="Late news")
    tree = page(owner_client.get(calendar_url(workspace, date="2030-10-11")))
    assert posts_in(tree, "td.cal-day") == {("2030-10-11", None): [post.pk]}
    chip = tree.get_element_by_id(f"cal-post-{post.pk}")
    assert css(chip, "time")[0].text == "23:30"
    assert "Late news" in chip.text_content()
    link = css(chip, "a.cal-post-link")[0].get("href")
    assert link == reverse("publishing:post", args=[workspace.slug, post.pk])


def test_the_month_grid_starts_on_monday_and_shows_whole_weeks(owner_client, workspace):
    tree = page(owner_client.get(calendar_url(workspace, date="2030-10-17")))
    days = [cell.get("data-day") for cell in css(tree, "td.cal-day")]
    # October 2030 starts on a Tuesday and ends on a Thursday.
    assert days[0] == "2030-09-30" and days[-1] == "2030-11-03" and len(days) == 35
    assert [th.text_content() for th in css(tree, ".cal-month th")][0] == "Monday"
    assert "October 2030" in tree.get_element_by_id("cal-title").text_content()
    outside = {cell.get("data-day") for cell in css(tree, "td.cal-outside")}
    assert outside == {"2030-09-30", "2030-11-01", "2030-11-02", "2030-11-03"}


def test_a_post_shows_its_channels_status_ritual_and_attention(
    owner_client, workspace, mastodon, bluesky
):
    ritual = Ritual.objects.create(
        workspace=workspace,
        name="#MardiConseil",
        rule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=NOW.date(),
        at_time=time(9),
    )
    at = utc(2030, 10, 8, 7, 0)
    post = make_post(
        workspace,
        at,
        mastodon,
        bluesky,
        status=PostStatus.SCHEDULED,
        ritual=ritual,
        occurrence_at=at,
    )
    quiet = make_post(workspace, utc(2030, 10, 9, 7, 0), mastodon, status=PostStatus.SCHEDULED)
    for state, channel in ((DeliveryState.FAILED, mastodon), (DeliveryState.SCHEDULED, bluesky)):
        Delivery.objects.create(
            workspace=workspace,
            post=post,
            channel=channel,
            state=state,
            due_at=at,
            next_attempt_at=at,
        )
    tree = page(owner_client.get(calendar_url(workspace, date="2030-10-08")))
    chip = tree.get_element_by_id(f"cal-post-{post.pk}")
    text = chip.text_content()
    assert "#MardiConseil" in text and "Scheduled" in text and "Needs attention" in text
    assert {n.get("title") for n in css(chip, ".cal-network")} == {str(mastodon), str(bluesky)}
    assert "Acme on Mastodon: Failed" in css(chip, ".cal-attention")[0].get("title")
    assert "Needs attention" not in tree.get_element_by_id(f"cal-post-{quiet.pk}").text_content()


def test_posts_of_another_workspace_never_show(owner_client, workspace, make_workspace):
    other = make_workspace()
    make_post(other, utc(2030, 10, 8, 7, 0), text="Secret plans")
    response = owner_client.get(calendar_url(workspace, date="2030-10-08"))
    assert b"Secret plans" not in response.content


def test_new_post_links_prefill_the_day_and_the_filtered_channels(
    owner_client, workspace, mastodon
):
    tree = page(owner_client.get(calendar_url(workspace, date="2030-10-08", channel=mastodon.pk)))
    cell = css(tree, 'td[data-day="2030-10-15"]')[0]
    href = css(cell, "a.cal-new")[0].get("href")
    assert urlsplit(href).path == reverse("publishing:compose", args=[workspace.slug])
    assert parse_qs(urlsplit(href).query) == {
        "at": ["2030-10-15T09:00"],
        "channel": [str(mastodon.pk)],
    }


def test_viewers_see_the_calendar_without_moving_or_writing(
    client_for, make_member, workspace, mastodon
):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon)
    viewer = make_member(workspace, Role.VIEWER)
    tree = page(client_for(viewer).get(calendar_url(workspace, date="2030-10-08")))
    chip = tree.get_element_by_id(f"cal-post-{post.pk}")
    assert chip.get("draggable") is None and not css(chip, "form")
    assert not css(tree, "a.cal-new") and not css(tree, "[data-drop-date]")


def test_a_contributor_moves_drafts_but_not_scheduled_posts(
    client_for, make_member, workspace, mastodon
):
    draft = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon)
    scheduled = make_post(workspace, utc(2030, 10, 9, 7, 0), mastodon, status=PostStatus.SCHEDULED)
    contributor = make_member(workspace, Role.CONTRIBUTOR)
    tree = page(client_for(contributor).get(calendar_url(workspace, date="2030-10-08")))
    assert tree.get_element_by_id(f"cal-post-{draft.pk}").get("draggable") == "true"
    assert tree.get_element_by_id(f"cal-post-{scheduled.pk}").get("draggable") is None


def test_published_posts_cannot_be_moved(owner_client, workspace, mastodon):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon, status=PostStatus.PUBLISHED)
    tree = page(owner_client.get(calendar_url(workspace, date="2030-10-08")))
    chip = tree.get_element_by_id(f"cal-post-{post.pk}")
    assert chip.get("draggable") is None and not css(chip, "form")


# Week and list -------------------------------------------------------------------------


def test_the_week_puts_each_post_in_its_local_day_and_hour(owner_client, workspace, mastodon):
    # 9:15 in Paris before and after the clocks go back: 07:15 UTC, then 08:15 UTC.
    friday = make_post(workspace, utc(2030, 10, 25, 7, 15), mastodon)
    sunday = make_post(workspace, utc(2030, 10, 27, 8, 15), mastodon)
    # 23:45 UTC on Sunday the 27th is already Monday the 28th, 00:45, in Paris.
    late = make_post(workspace, utc(2030, 10, 27, 23, 45), mastodon)
    tree = page(owner_client.get(calendar_url(workspace, view="week", date="2030-10-23")))
    assert posts_in(tree, "td.cal-slot") == {
        ("2030-10-25", "9"): [friday.pk],
        ("2030-10-27", "9"): [sunday.pk],
    }
    days = [th.get("data-day") for th in css(tree, "th.cal-week-day")]
    assert days == [f"2030-10-{day}" for day in range(21, 28)]
    assert len(css(tree, "tbody tr")) == 24
    nxt = page(owner_client.get(calendar_url(workspace, view="week", date="2030-10-28")))
    assert posts_in(nxt, "td.cal-slot") == {("2030-10-28", "0"): [late.pk]}


def test_the_list_is_chronological_and_paged(owner_client, workspace, mastodon):
    start = utc(2030, 10, 2, 6, 0)
    posts = [
        make_post(workspace, start + timedelta(hours=7 * i), mastodon, text=f"Post {i}")
        for i in range(55)
    ]
    tree = page(owner_client.get(calendar_url(workspace, view="list", date="2030-10-01")))
    first_page = [int(chip.get("data-post")) for chip in css(tree, "[data-post]")]
    assert first_page == [post.pk for post in posts[:50]]
    next_link = css(tree, '.pagination a[rel="next"]')[0].get("href")
    second = page(owner_client.get(next_link))
    assert [int(c.get("data-post")) for c in css(second, "[data-post]")] == [
        post.pk for post in posts[50:]
    ]
    assert "Page 2 of 2" in css(second, ".pagination")[0].text_content()


def test_navigation_moves_by_month_or_week(owner_client, workspace):
    tree = page(owner_client.get(calendar_url(workspace, date="2030-10-17")))
    links = {
        link.get("rel"): parse_qs(urlsplit(link.get("href")).query)["date"][0]
        for link in css(tree, ".cal-nav a[rel]")
    }
    assert links == {"prev": "2030-09-01", "next": "2030-11-01"}
    tree = page(owner_client.get(calendar_url(workspace, view="week", date="2030-10-17")))
    links = {
        link.get("rel"): parse_qs(urlsplit(link.get("href")).query)["date"][0]
        for link in css(tree, ".cal-nav a[rel]")
    }
    assert links == {"prev": "2030-10-07", "next": "2030-10-21"}
    # Without a date, the calendar opens on today's month (in the workspace's zone).
    tree = page(owner_client.get(calendar_url(workspace)))
    assert "October 2030" in tree.get_element_by_id("cal-title").text_content()


def test_nonsense_parameters_fall_back_quietly(owner_client, workspace):
    tree = page(
        owner_client.get(
            calendar_url(workspace, view="year", date="soon", channel="x", status="lost", page="-3")
        )
    )
    assert css(tree, "table.cal-month")
    for day in ("9999-12-31", "0001-01-01"):
        tree = page(owner_client.get(calendar_url(workspace, date=day)))
        assert "October 2030" in tree.get_element_by_id("cal-title").text_content()


# Filters -------------------------------------------------------------------------------


def test_filter_by_channels_and_status(owner_client, workspace, mastodon, bluesky):
    third = make_channel(workspace, "x", "Acme on X")
    on_mastodon = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon)
    on_both = make_post(
        workspace, utc(2030, 10, 8, 8, 0), mastodon, bluesky, status=PostStatus.SCHEDULED
    )
    on_x = make_post(workspace, utc(2030, 10, 8, 9, 0), third)

    def shown(**params):
        tree = page(owner_client.get(calendar_url(workspace, date="2030-10-08", **params)))
        return sorted(int(chip.get("data-post")) for chip in css(tree, "[data-post]"))

    assert shown() == sorted([on_mastodon.pk, on_both.pk, on_x.pk])
    assert shown(channel=bluesky.pk) == [on_both.pk]
    assert shown(channel=[bluesky.pk, third.pk]) == sorted([on_both.pk, on_x.pk])
    assert shown(channel=mastodon.pk) == sorted([on_mastodon.pk, on_both.pk])
    assert shown(status="scheduled") == [on_both.pk]
    assert shown(status="draft", channel=mastodon.pk) == [on_mastodon.pk]
    # Another workspace's channel id is ignored rather than matching nothing.
    assert len(shown(channel=999999)) == 3


def test_navigation_keeps_the_filters(owner_client, workspace, mastodon):
    tree = page(
        owner_client.get(
            calendar_url(workspace, date="2030-10-08", channel=mastodon.pk, status="draft")
        )
    )
    for link in css(tree, ".cal-nav a[rel]") + css(tree, ".cal-views a"):
        query = parse_qs(urlsplit(link.get("href")).query)
        assert query["channel"] == [str(mastodon.pk)] and query["status"] == ["draft"]


# Next free slot ------------------------------------------------------------------------


def test_the_next_free_slot_of_each_channel_links_to_the_composer(
    owner_client, workspace, mastodon, bluesky
):
    # Tuesday 1 October 2030, 10:00 in Paris. Mastodon publishes on Tuesdays and Thursdays at
    # 9:00; Thursday the 3rd is taken, so the next free one is Tuesday the 8th.
    QueueSlot.objects.create(channel=mastodon, weekday=1, at_time=time(9))
    QueueSlot.objects.create(channel=mastodon, weekday=3, at_time=time(9))
    make_post(workspace, utc(2030, 10, 3, 7, 0), mastodon)
    tree = page(owner_client.get(calendar_url(workspace, channel=mastodon.pk)))
    slots = css(tree, ".cal-slots li")
    assert len(slots) == 1 and "Acme on Mastodon" in slots[0].text_content()
    assert css(slots[0], "time")[0].get("datetime") == "2030-10-08T09:00:00+02:00"
    href = css(slots[0], "a")[0].get("href")
    assert parse_qs(urlsplit(href).query) == {
        "at": ["2030-10-08T09:00"],
        "channel": [str(mastodon.pk)],
    }
    # A channel without queue slots says where to set them.
    tree = page(owner_client.get(calendar_url(workspace, channel=bluesky.pk)))
    assert "No queue slot" in css(tree, ".cal-slots")[0].text_content()


def test_the_first_slot_free_on_all_chosen_channels(owner_client, workspace, mastodon, bluesky):
    QueueSlot.objects.create(channel=mastodon, weekday=3, at_time=time(9))
    QueueSlot.objects.create(channel=bluesky, weekday=3, at_time=time(9))
    make_post(workspace, utc(2030, 10, 3, 7, 0), bluesky)  # Bluesky's Thursday 3rd is taken
    tree = page(owner_client.get(calendar_url(workspace, channel=[mastodon.pk, bluesky.pk])))
    rows = {
        css(row, "strong")[0].text: css(row, "time")[0].get("datetime")
        for row in css(tree, ".cal-slots li")
    }
    assert rows == {
        "Acme on Mastodon": "2030-10-03T09:00:00+02:00",
        "Acme on Bluesky": "2030-10-10T09:00:00+02:00",
        "All the chosen channels": "2030-10-10T09:00:00+02:00",
    }


def test_without_a_filter_every_usable_channel_with_slots_is_listed(
    owner_client, workspace, mastodon, bluesky
):
    off = make_channel(workspace, "x", "Old X", state=ChannelState.DISABLED)
    for channel in (mastodon, off):
        QueueSlot.objects.create(channel=channel, weekday=3, at_time=time(9))
    tree = page(owner_client.get(calendar_url(workspace)))
    names = [css(row, "strong")[0].text for row in css(tree, ".cal-slots li")]
    assert names == ["Acme on Mastodon"]


# Moving --------------------------------------------------------------------------------


def move(client, workspace, post, day, at, htmx=False, return_query="view=month&date=2030-10-01"):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        move_url(workspace, post),
        {"date": day, "time": at, "return_query": return_query},
        **headers,
    )


def test_moving_a_draft_to_another_local_day_and_time(owner_client, workspace, mastodon):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon)
    response = move(
        owner_client,
        workspace,
        post,
        "2030-10-10",
        "14:30",
        return_query=f"view=week&date=2030-10-08&channel={mastodon.pk}",
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.url).query) == {
        "view": ["week"],
        "date": ["2030-10-08"],
        "channel": [str(mastodon.pk)],
    }
    post.refresh_from_db()
    assert post.publish_at == utc(2030, 10, 10, 12, 30)
    followed = owner_client.get(response.url)
    assert "moved to" in followed.content.decode()


def test_a_move_keeps_9_00_local_across_the_end_of_daylight_saving(
    owner_client, workspace, mastodon
):
    # Friday 25 October 2030, 9:00 summer time (07:00 UTC), scheduled; moved to Monday the
    # 28th, after the clocks went back: still 9:00 on the wall clock, so 08:00 UTC.
    post = make_post(workspace, None, mastodon)
    post_service.schedule(post, None, Role.OWNER, publish_at=utc(2030, 10, 25, 7, 0))
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    response = move(owner_client, workspace, post, "2030-10-28", "09:00")
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.publish_at == utc(2030, 10, 28, 8, 0)
    delivery = post.deliveries.get()
    assert delivery.due_at == delivery.next_attempt_at == utc(2030, 10, 28, 8, 0)
    assert delivery.state == DeliveryState.SCHEDULED
    tree = page(owner_client.get(calendar_url(workspace, date="2030-10-28")))
    assert css(tree.get_element_by_id(f"cal-post-{post.pk}"), "time")[0].text == "09:00"


def test_a_move_into_the_spring_forward_gap_lands_after_it(owner_client, workspace, mastodon):
    # 02:30 does not exist in Paris on Sunday 30 March 2031: it becomes 03:30 summer time.
    post = make_post(workspace, utc(2031, 3, 27, 8, 0), mastodon)
    move(owner_client, workspace, post, "2031-03-30", "02:30")
    post.refresh_from_db()
    assert post.publish_at == utc(2031, 3, 30, 1, 30)


def test_an_htmx_move_answers_the_refreshed_calendar_body(owner_client, workspace, mastodon):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon, title="Weekly tip")
    response = move(owner_client, workspace, post, "2030-10-16", "09:00", htmx=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and "data-calendar-body" in body
    tree = lxml.html.fromstring(body)
    assert posts_in(tree, "td.cal-day") == {("2030-10-16", None): [post.pk]}
    assert tree.get("data-moved") == str(post.pk)
    message = css(tree, "[data-calendar-message]")[0].text_content()
    assert "“Weekly tip” moved to" in message


def test_a_move_into_the_past_is_refused(owner_client, workspace, mastodon):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon)
    response = move(owner_client, workspace, post, "2030-09-30", "09:00", htmx=True)
    assert response.status_code == 400
    assert "already passed" in response.content.decode()
    post.refresh_from_db()
    assert post.publish_at == utc(2030, 10, 8, 7, 0)
    response = move(owner_client, workspace, post, "2030-09-30", "09:00")
    assert response.status_code == 302
    assert "already passed" in owner_client.get(response.url).content.decode()


def test_a_move_with_a_bad_date_is_refused(owner_client, workspace, mastodon):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon)
    response = move(owner_client, workspace, post, "someday", "25:00", htmx=True)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a date such as" in body and "Enter a time such as" in body
    response = move(owner_client, workspace, post, "9999-12-31", "23:59", htmx=True)
    assert response.status_code == 400
    assert "too far ahead" in response.content.decode()
    post.refresh_from_db()
    assert post.publish_at == utc(2030, 10, 8, 7, 0)


def test_a_published_or_sending_post_cannot_be_moved(owner_client, workspace, mastodon):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon, status=PostStatus.SCHEDULED)
    Delivery.objects.create(
        workspace=workspace,
        post=post,
        channel=mastodon,
        state=DeliveryState.SENDING,
        due_at=post.publish_at,
        next_attempt_at=post.publish_at,
    )
    response = move(owner_client, workspace, post, "2030-10-09", "09:00", htmx=True)
    assert response.status_code == 400
    assert "can no longer be edited" in response.content.decode()
    post.refresh_from_db()
    assert post.publish_at == utc(2030, 10, 8, 7, 0)


def test_moving_a_scheduled_post_needs_scheduling_rights(
    client_for, make_member, workspace, mastodon
):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon, status=PostStatus.SCHEDULED)
    contributor = client_for(make_member(workspace, Role.CONTRIBUTOR))
    response = move(contributor, workspace, post, "2030-10-09", "09:00", htmx=True)
    assert response.status_code == 403
    assert "Only owners, admins and editors" in response.content.decode()
    response = move(contributor, workspace, post, "2030-10-09", "09:00")
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.publish_at == utc(2030, 10, 8, 7, 0)
    editor = client_for(make_member(workspace, Role.EDITOR))
    move(editor, workspace, post, "2030-10-09", "09:00")
    post.refresh_from_db()
    assert post.publish_at == utc(2030, 10, 9, 7, 0)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.APPROVER])
def test_readers_cannot_move(client_for, make_member, workspace, mastodon, role):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon)
    response = move(
        client_for(make_member(workspace, role)), workspace, post, "2030-10-09", "09:00"
    )
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.publish_at == utc(2030, 10, 8, 7, 0)


def test_moving_another_workspaces_post_is_not_found(owner_client, workspace, make_workspace):
    other = make_workspace()
    post = make_post(other, utc(2030, 10, 8, 7, 0))
    response = move(owner_client, workspace, post, "2030-10-09", "09:00")
    assert response.status_code == 404
    post.refresh_from_db()
    assert post.publish_at == utc(2030, 10, 8, 7, 0)


def test_move_answers_only_post(owner_client, workspace, mastodon):
    post = make_post(workspace, utc(2030, 10, 8, 7, 0), mastodon)
    assert owner_client.get(move_url(workspace, post)).status_code == 405


def test_moving_an_approved_post_keeps_its_approval(owner_client, workspace, mastodon):
    # Only the time changes: the content that was approved is the same (the service decides).
    from tribu.publishing.models import PublishingSettings

    PublishingSettings.objects.create(workspace=workspace, require_approval=True)
    post = make_post(
        workspace, utc(2030, 10, 8, 7, 0), mastodon, status=PostStatus.APPROVED, approved_revision=1
    )
    move(owner_client, workspace, post, "2030-10-09", "09:00")
    post.refresh_from_db()
    assert (post.status, post.publish_at) == (PostStatus.APPROVED, utc(2030, 10, 9, 7, 0))
