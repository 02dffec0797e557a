"""Real `tribu worker` processes on PostgreSQL, each with its Publisher thread, racing over
the same due deliveries against the Mastodon contract fake: every post goes out exactly once,
including the one whose answer is lost after the network stored it."""

import pytest
from django.conf import settings
from django.utils import timezone

from tribu.channels.models import Channel
from tribu.publishing.models import Delivery, Post, PostStatus, PostVariant
from tribu.testing.fakes.mastodon import TOKEN, MastodonPublishFake
from tribu.testing.workers import running_workers, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL: SQLite serves one machine, where a single worker runs",
    ),
]

POSTS = 120


@pytest.mark.django_db(transaction=True)
def test_three_workers_publish_each_post_exactly_once(workspace, tmp_path):
    with MastodonPublishFake() as fake:
        fake.latency = 0.02
        channel = Channel(workspace=workspace, network="mastodon", name="Acme",
                          base_url=fake.base_url, account_id=fake.account["id"])  # fmt: skip
        channel.set_secrets({"access_token": TOKEN})
        channel.save()
        with running_workers(
            tmp_path, count=3, TRIBU_ALLOW_PRIVATE_ADDRESSES="1", TRIBU_PUBLISH_THREADS="4"
        ) as workers:
            # One connection breaks after the post was stored: the retry (20 s later, by
            # whichever worker claims it) must reuse its idempotency key.
            fake.drop_after_processing(path="/api/v1/statuses")
            due = timezone.now()
            posts = Post.objects.bulk_create(
                Post(workspace=workspace, text=f"Publication {n}", status=PostStatus.SCHEDULED,
                     publish_at=due)
                for n in range(POSTS)
            )  # fmt: skip
            PostVariant.objects.bulk_create(PostVariant(post=p, channel=channel) for p in posts)
            Delivery.objects.bulk_create(
                Delivery(workspace=workspace, post=p, channel=channel, due_at=due,
                         next_attempt_at=due)
                for p in posts
            )  # fmt: skip
            published = Delivery.objects.filter(state="published")
            wait_for(lambda: published.count() == POSTS, 120, "not all published", workers)

    assert [worker.returncode for worker in workers] == [0, 0, 0]
    assert fake.duplicates() == []
    assert len(fake.statuses) == POSTS
    assert Post.objects.filter(status=PostStatus.PUBLISHED).count() == POSTS
    # The work was shared: more than one worker sent posts.
    senders = set(
        Delivery.objects.filter(log__event="sending").values_list("log__worker", flat=True)
    )
    assert len(senders) > 1
