"""`tribu listen poll [--source ID] [--once]`."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tribu.listening.models import Mention, Source
from tribu.listening.services import polling, sources

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Le Blog</title><link>https://blog.example/</link>
<item><title>Un</title><link>https://blog.example/1</link><guid>1</guid></item>
<item><title>Deux</title><link>https://blog.example/2</link><guid>2</guid></item>
</channel></rss>"""


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True


def listen(*args):
    out = StringIO()
    call_command("listen", *args, stdout=out)
    return out.getvalue()


def test_once_polls_every_due_source_and_prints_a_line_each(workspace, httpserver):
    httpserver.expect_request("/feed").respond_with_data(RSS, content_type="application/rss+xml")
    httpserver.expect_request("/broken").respond_with_data("down", status=500)
    good = sources.create_source(workspace, kind="feed", url=httpserver.url_for("/feed"))
    bad = sources.create_source(
        workspace, kind="feed", url=httpserver.url_for("/broken"), name="Cassé"
    )
    later = sources.create_source(workspace, kind="feed", url=httpserver.url_for("/later"))
    Source.objects.filter(pk=later.pk).update(next_poll_at=timezone.now() + timedelta(hours=1))

    output = listen("poll", "--once")

    lines = output.splitlines()
    assert f"#{good.pk} Le Blog: 2 new, 0 duplicates" in lines
    assert any(
        line.startswith(f"#{bad.pk} Cassé: error: ") and "HTTP 500" in line for line in lines
    )
    assert not any(line.startswith(f"#{later.pk} ") for line in lines)
    assert Mention.objects.count() == 2
    # Nothing is due any more.
    assert listen("poll", "--once") == ""


def test_once_with_a_source_polls_it_even_when_not_due(workspace, httpserver):
    httpserver.expect_request("/feed").respond_with_data(RSS, content_type="application/rss+xml")
    source = sources.create_source(workspace, kind="feed", url=httpserver.url_for("/feed"))
    list(polling.poll_due())
    source.refresh_from_db()
    assert source.next_poll_at > timezone.now()

    output = listen("poll", "--source", str(source.pk), "--once")

    assert output.strip() == f"#{source.pk} Le Blog: 0 new, 2 duplicates"
    source.refresh_from_db()
    assert source.next_poll_at > timezone.now() + timedelta(minutes=10)


def test_a_paused_source_is_skipped_with_a_reason(workspace):
    source = sources.create_source(workspace, kind="feed", url="https://blog.example/rss")
    sources.update_source(source, paused=True)
    output = listen("poll", "--source", str(source.pk), "--once")
    assert "skipped: the source is paused" in output


def test_an_unknown_source_is_an_error(db):
    with pytest.raises(CommandError, match="No source has the id 404"):
        listen("poll", "--source", "404", "--once")
