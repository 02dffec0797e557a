"""Shared helpers for the listening page tests: mentions stored through the real ingestion
service, so that topics, search and duplicate grouping behave as in production."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention, Source
from tribu.listening.services.ingest import ingest
from tribu.listening.services.topics import create_topic


@pytest.fixture
def source(workspace):
    return Source.objects.create(
        workspace=workspace,
        kind=Source.Kind.FEED,
        name="Déco Mag",
        url="https://deco-mag.example/feed.xml",
        paused_at=timezone.now(),
        paused_reason="test",
    )


@pytest.fixture
def add_mentions(source):
    """add_mentions(("title", "text"), ...) → the stored mentions, newest last in input."""

    def add(*entries, network="web", start=None, source_=None):
        start = start or timezone.now() - timedelta(days=1)
        items = []
        for index, (title, text) in enumerate(entries):
            items.append(
                ParsedItem(
                    url=f"https://deco-mag.example/{network}/{index}-{abs(hash(title)) % 10**8}",
                    guid=f"{network}-{index}-{title}",
                    title=title,
                    text=text,
                    html=f"<p>{text}</p>",
                    author_name="Jeanne Martin",
                    published_at=start + timedelta(minutes=index),
                    network=network,
                )
            )
        report = ingest(source_ or source, items)
        return list(Mention.objects.filter(pk__in=report.mention_ids).order_by("sort_key"))

    return add


@pytest.fixture
def brand(workspace):
    return create_topic(workspace, name="Lumière", query="lumiere", colour="#b45309")
