"""tribu.listening.services.authors: one author per network identity, kept up to date."""

from datetime import UTC, datetime, timedelta

from tribu.listening.items import ParsedItem
from tribu.listening.models import Author, Mention
from tribu.listening.services.ingest import ingest_items

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def post(n, **fields):
    values = {
        "url": f"https://social.example/@x/{n}",
        "text": f"Message numéro {n} à propos de Tribu, assez long pour compter.",
        "network": "mastodon",
        "published_at": T0 + timedelta(hours=n),
    }
    values.update(fields)
    return ParsedItem(**values)


def test_handles_identify_authors_case_insensitively(workspace):
    ingest_items(
        workspace.pk,
        [
            post(
                1, author_handle="@Jeanne@social.example", author_name="Jeanne", author_followers=10
            ),
            post(
                2,
                author_handle="@jeanne@social.example",
                author_name="Jeanne D.",
                author_followers=12,
            ),
        ],
    )
    author = Author.objects.get()
    assert author.key == "jeanne@social.example"
    assert (author.name, author.followers, author.mentions_count) == ("Jeanne D.", 12, 2)
    assert (author.first_seen_at, author.last_seen_at) == (
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=2),
    )
    assert set(Mention.objects.values_list("author_id", flat=True)) == {author.pk}


def test_an_older_mention_does_not_overwrite_newer_details(workspace):
    ingest_items(
        workspace.pk, [post(5, author_handle="@a", author_name="New name", author_followers=50)]
    )
    ingest_items(
        workspace.pk, [post(1, author_handle="@a", author_name="Old name", author_followers=5)]
    )
    author = Author.objects.get()
    assert (author.name, author.followers, author.mentions_count) == ("New name", 50, 2)
    assert author.first_seen_at == T0 + timedelta(hours=1)


def test_web_authors_are_told_apart_by_site(workspace):
    ingest_items(
        workspace.pk,
        [
            post(1, network="web", url="https://blog-a.example/1", author_name="Admin"),
            post(2, network="web", url="https://blog-b.example/2", author_name="Admin"),
        ],
    )
    assert sorted(Author.objects.values_list("key", flat=True)) == [
        "blog-a.example/admin",
        "blog-b.example/admin",
    ]


def test_same_handle_on_two_networks_or_workspaces_are_different_people(workspace, make_workspace):
    other = make_workspace()
    ingest_items(
        workspace.pk,
        [
            post(1, author_handle="@sam"),
            post(2, author_handle="@sam", network="bluesky", url="https://bsky.example/2"),
        ],
    )
    ingest_items(other.pk, [post(3, author_handle="@sam")])
    assert Author.objects.filter(workspace=workspace).count() == 2
    assert Author.objects.filter(workspace=other).count() == 1


def test_anonymous_mentions_have_no_author(workspace):
    ingest_items(workspace.pk, [post(1)])
    assert Mention.objects.get().author is None
    assert not Author.objects.exists()
