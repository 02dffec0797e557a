"""Authors: ranked by reach, activity and engagement; one author's page; the watch list.

Rankings read AuthorDay (mentions and engagement per author, scope and UTC day); reach is
the author's follower count as last seen at ingestion. An author's mentions come newest
first from the mention_author_time index.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from tribu.core.services import audit
from tribu.insights.models import WORKSPACE_SCOPE, AuthorDay
from tribu.insights.services.dashboard import cached
from tribu.listening.models import Author, Mention

SORTS = ("activity", "reach", "engagement")
DEFAULT_SORT = "activity"
LIMIT = 50


@dataclass
class AuthorStats:
    author: Author
    mentions: int
    engagement: int
    negative: int
    positive: int

    @property
    def reach(self):
        return self.author.followers


def _period_rows(workspace, key, period):
    return (
        AuthorDay.objects.filter(
            workspace=workspace,
            topic_key=key,
            day__gte=period.first_day,
            day__lte=period.last_day,
        )
        .values("author_key")
        .annotate(
            total=Sum("count"),
            engaged=Sum("engagement"),
            negatives=Sum("negative"),
            positives=Sum("positive"),
        )
        .filter(total__gt=0)
    )


def ranked(workspace, key, period, sort=DEFAULT_SORT, limit=LIMIT):
    """The authors active in `period` and scope, best first by `sort` (cached for a few
    minutes like the dashboard's rankings; the watch flag is read fresh)."""
    result = cached(
        "authors",
        workspace,
        key,
        period,
        lambda: _ranked(workspace, key, period, sort, limit),
        sort,
        limit,
    )
    watched = set(
        Author.objects.filter(
            pk__in=[stats.author.pk for stats in result], watched=True
        ).values_list("pk", flat=True)
    )
    for stats in result:
        stats.author.watched = stats.author.pk in watched
    return result


def _ranked(workspace, key, period, sort, limit):
    rows = _period_rows(workspace, key, period)
    if sort == "reach":
        # The most followed among the authors active in the period: the subquery keeps the
        # ranking in the database whatever the number of authors.
        authors = list(
            Author.objects.filter(
                workspace=workspace, pk__in=rows.values("author_key"), followers__isnull=False
            ).order_by("-followers", "name", "id")[:limit]
        )
        stats = {
            row["author_key"]: row for row in rows.filter(author_key__in=[a.pk for a in authors])
        }
    else:
        order = "-engaged" if sort == "engagement" else "-total"
        top = list(rows.order_by(order, "-total", "author_key")[:limit])
        stats = {row["author_key"]: row for row in top}
        by_id = Author.objects.filter(workspace=workspace).in_bulk(list(stats))
        authors = [by_id[row["author_key"]] for row in top if row["author_key"] in by_id]
    result = []
    for author in authors:
        row = stats.get(author.pk)
        if row is None:
            continue
        result.append(
            AuthorStats(
                author,
                row["total"],
                row["engaged"] or 0,
                row["negatives"] or 0,
                row["positives"] or 0,
            )
        )
    return result


def author_mentions(author, limit=20):
    """Newest first, on the mention_author_time index."""
    return list(
        Mention.objects.filter(author=author, workspace_id=author.workspace_id)
        .select_related("source")
        .order_by("-sort_key")[:limit]
    )


@dataclass
class AuthorDaySeries:
    days: list
    mentions: list
    negative: list
    positive: list

    @property
    def other(self):
        """Neutral, unknown or not analysed."""
        return [
            m - n - p for m, n, p in zip(self.mentions, self.negative, self.positive, strict=True)
        ]


def sentiment_over_time(author, period):
    """Daily mentions, negative and positive of an author over the period (all their
    mentions in the workspace, matched or not)."""
    rows = AuthorDay.objects.filter(
        author_key=author.pk,
        workspace_id=author.workspace_id,
        topic_key=WORKSPACE_SCOPE,
        day__gte=period.first_day,
        day__lte=period.last_day,
    ).values_list("day", "count", "negative", "positive")
    days = []
    day = period.first_day
    while day <= period.last_day:
        days.append(day)
        day += timedelta(days=1)
    position = {day: index for index, day in enumerate(days)}
    mentions, negative, positive = ([0] * len(days) for _ in range(3))
    for day, count, neg, pos in rows:
        index = position.get(day)
        if index is None:
            continue
        mentions[index] += count
        negative[index] += neg
        positive[index] += pos
    return AuthorDaySeries(days, mentions, negative, positive)


def author_totals(author, period):
    row = AuthorDay.objects.filter(
        author_key=author.pk,
        workspace_id=author.workspace_id,
        topic_key=WORKSPACE_SCOPE,
        day__gte=period.first_day,
        day__lte=period.last_day,
    ).aggregate(total=Sum("count"), engaged=Sum("engagement"))
    return row["total"] or 0, row["engaged"] or 0


def watchlist(workspace):
    return list(Author.objects.filter(workspace=workspace, watched=True).order_by("name", "id"))


def set_watched(author, watched, *, request=None, actor=None):
    """Add an author to the watch list or remove them; audit-logged. Returns whether it
    changed."""
    with transaction.atomic():
        changed = (
            Author.objects.filter(pk=author.pk)
            .exclude(watched=watched)
            .update(watched=watched, watched_at=timezone.now() if watched else None)
        )
        if changed:
            audit.record(
                author.workspace,
                "author.watched" if watched else "author.unwatched",
                actor=actor,
                request=request,
                target=str(author),
                network=author.network,
            )
    author.refresh_from_db(fields=["watched", "watched_at"])
    return bool(changed)
