"""Links from a number to the mentions behind it: the stream page with filters.

Hidden mentions are counted by the aggregates, so the links show them too (hidden=all):
the stream then lists exactly the mentions a number counts (terms excepted: the stream's
search matches words by their stem, a little more widely than the term counts)."""

from datetime import timedelta

from django.urls import reverse
from django.utils.http import urlencode


def stream_url(workspace, *, topic=None, since=None, until=None, **filters):
    params = {"hidden": "all"}
    if topic is not None:
        params["topic"] = topic.pk
    if since is not None:
        params["since"] = since.isoformat()
    if until is not None:
        params["until"] = until.isoformat()
    params.update({name: value for name, value in filters.items() if value not in (None, "")})
    return f"{reverse('listening:stream', args=[workspace.slug])}?{urlencode(params)}"


def period_url(workspace, topic, period, **filters):
    """The period's local days, as the stream reads dates (in the workspace's zone)."""
    return stream_url(
        workspace, topic=topic, since=period.first_day, until=period.last_day, **filters
    )


def bucket_url(workspace, topic, period, bucket, **filters):
    if period.hourly:
        # UTC instants with their offset: unambiguous across daylight-saving changes.
        until = bucket.end - timedelta(milliseconds=1)
        return stream_url(workspace, topic=topic, since=bucket.start, until=until, **filters)
    day = bucket.start.astimezone(period.tz).date()
    return stream_url(workspace, topic=topic, since=day, until=day, **filters)
