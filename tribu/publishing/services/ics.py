"""The publishing calendar as an ICS feed (RFC 5545), behind a secret URL.

Calendar applications (Google Calendar, Outlook, Thunderbird, Apple Calendar) subscribe to a
URL and cannot sign in, so the URL itself carries a secret token. The token is stored
encrypted in PublishingSettings.ics_token (the team can copy the address again) and as its
SHA-256 in ics_token_hash, which finds the workspace; rotating it cuts off every old
subscription at once.

The feed lists one event per post due in a window around now (30 days back, 180 ahead): a
15-minute event at the post's publish time (in UTC), titled with its status in the
workspace's language, and with a UID that stays the same for the post's whole life, so an
application moves the event when the post is rescheduled instead of adding a new one.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from tribu.publishing.models import Post, PostStatus, PublishingSettings

EVENT_DURATION = timedelta(minutes=15)
SUMMARY_LENGTH = 60
# Calendar applications may poll this often (REFRESH-INTERVAL, and X-PUBLISHED-TTL below);
# most ignore it and poll less.
REFRESH_INTERVAL = timedelta(hours=1)


# The token -----------------------------------------------------------------------------


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _store_new_token(publishing_settings, *, only_if_missing):
    token = secrets.token_urlsafe(32)
    rows = PublishingSettings.objects.filter(pk=publishing_settings.pk)
    if only_if_missing:
        rows = rows.filter(ics_token_hash="")
    # A conditional UPDATE: when two requests create the first token at once, one wins and
    # the other reads the winner's token back, so both hand out a working address.
    if rows.update(ics_token=token, ics_token_hash=token_hash(token)):
        publishing_settings.ics_token = token
        publishing_settings.ics_token_hash = token_hash(token)
        return token
    publishing_settings.refresh_from_db(fields=["ics_token", "ics_token_hash"])
    return publishing_settings.ics_token


def ensure_token(publishing_settings):
    """The workspace's feed token, created on first use (secrets.token_urlsafe(32))."""
    if publishing_settings.ics_token and publishing_settings.ics_token_hash:
        return publishing_settings.ics_token
    return _store_new_token(publishing_settings, only_if_missing=True)


def rotate_token(publishing_settings):
    """Replace the feed token: the old address stops working at once. Returns the new one."""
    return _store_new_token(publishing_settings, only_if_missing=False)


def workspace_for_token(token):
    """The workspace whose feed token is `token`, else None."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    digest = token_hash(token)
    row = (
        PublishingSettings.objects.select_related("workspace").filter(ics_token_hash=digest).first()
    )
    if row is None or not hmac.compare_digest(row.ics_token_hash, digest):
        return None
    return row.workspace


# The feed ------------------------------------------------------------------------------


def _host():
    return urlsplit(getattr(settings, "TRIBU_BASE_URL", "") or "").hostname or "tribu"


def post_url(post, workspace):
    """The post's page, absolute; None without TRIBU_BASE_URL."""
    base = (getattr(settings, "TRIBU_BASE_URL", "") or "").rstrip("/")
    if not base:
        return None
    return base + reverse("publishing:post", kwargs={"ws": workspace.slug, "post_id": post.pk})


def short_title(post):
    """The post's internal title, else the first line of its text, shortened."""
    if post.title.strip():
        return post.title.strip()
    first_line = next((line.strip() for line in post.text.splitlines() if line.strip()), "")
    if not first_line:
        return _("Untitled post")
    if len(first_line) > SUMMARY_LENGTH:
        return first_line[: SUMMARY_LENGTH - 1].rstrip() + "…"
    return first_line


def _event(post, workspace, host):
    status = str(PostStatus(post.status).label)
    channels = ", ".join(str(variant.channel) for variant in post.variants.all())
    description = "\n\n".join(
        part
        for part in (
            post.text.strip(),
            _("Channels: %(channels)s") % {"channels": channels or _("none yet")},
            _("Status: %(status)s") % {"status": status},
        )
        if part
    )
    event = Event()
    event.add("uid", f"post-{post.pk}@{host}")
    # Without METHOD, DTSTAMP is when the event last changed (RFC 5545, 3.8.7.2).
    event.add("dtstamp", post.updated_at)
    event.add("last-modified", post.updated_at)
    event.add("dtstart", post.publish_at)
    event.add("duration", EVENT_DURATION)
    event.add(
        "summary", _("%(status)s: %(title)s") % {"status": status, "title": short_title(post)}
    )
    event.add("description", description)
    event.add(
        "status",
        "CONFIRMED" if post.status in (PostStatus.SCHEDULED, PostStatus.PUBLISHED) else "TENTATIVE",
    )
    url = post_url(post, workspace)
    if url:
        event.add("url", url)
    return event


def calendar_feed(workspace, *, now, past=timedelta(days=30), future=timedelta(days=180)):
    """The workspace's posts due in [now − past, now + future) as an RFC 5545 VCALENDAR
    (bytes), texts in the workspace's language."""
    posts = (
        Post.objects.filter(
            workspace=workspace, publish_at__gte=now - past, publish_at__lt=now + future
        )
        .prefetch_related("variants__channel")
        .order_by("publish_at", "id")
    )
    host = _host()
    with translation.override(workspace.language):
        calendar = Calendar()
        calendar.add("prodid", "-//Tribu//Publishing calendar//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", workspace.name)
        calendar.add("name", workspace.name)
        calendar.add("x-wr-timezone", workspace.timezone)
        calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")  # Outlook's name for the same hint
        for post in posts:
            calendar.add_component(_event(post, workspace, host))
        return calendar.to_ical()
