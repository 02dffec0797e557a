import pytest
from django.core.cache import cache
from django.utils import timezone

from tribu.listening.items import ParsedItem
from tribu.listening.models import Author, Topic
from tribu.listening.services import topics
from tribu.listening.services.ingest import ingest_items


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rankings are cached per workspace id, which a rolled-back test may reuse."""
    cache.clear()


@pytest.fixture
def seeded(workspace):
    brand = topics.create_topic(workspace, name="Tribu", query="tribu")
    rival = topics.create_topic(workspace, name="Rival", query="rival", kind=Topic.Kind.COMPETITOR)
    now = timezone.now()
    texts = [
        ("@jeanne", "Tribu lance #printemps, superbe offre https://tribu.example/offre"),
        ("@jeanne", "Tribu encore, #printemps partout"),
        ("@paul", "Rival répond à Tribu"),
        ("=cmd|' /C calc'!A0", "Rival sans voix"),
    ]
    ingest_items(
        workspace.pk,
        [
            ParsedItem(
                url=f"https://social.example/{n}",
                text=text,
                author_handle=handle,
                network="mastodon",
                published_at=now - timezone.timedelta(hours=n + 1),
                engagement={"likes": n},
            )
            for n, (handle, text) in enumerate(texts)
        ],
    )
    jeanne = Author.objects.get(workspace=workspace, handle="@jeanne")
    return {"brand": brand, "rival": rival, "jeanne": jeanne}
