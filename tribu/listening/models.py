"""Listening: sources polled per workspace, topics (saved queries) and the mention stream.

Sizing: the stream must stay fast at 1,000,000 mentions. Every stream query is "this
workspace, maybe one topic/source/network/language, newest first", so:

- `Mention.sort_key` is one unique integer that orders mentions by publication time
  (microseconds since the epoch, nudged by a microsecond on collision, see
  services/dedupe.py). Newest-first is `ORDER BY sort_key DESC`, keyset pagination is one
  comparison, and the SQLite full-text table uses it as its rowid so a search can walk its
  results newest first and stop after one page.
- Each filter has an index that ends in `sort_key`, so a filtered page is one index scan.
- `MentionTopic` repeats workspace and sort_key so "topic T, newest first" is one index scan.
- Duplicate detection uses 64-bit hashes (`url_key`, `guid_key`, `content_hash`,
  `near_key`): small fixed-size index entries, whatever the length of a URL.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from tribu.core.fields import EncryptedTextField
from tribu.core.models import Workspace

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # followed by six hexadecimal digits.")
)


class Source(models.Model):
    """Somewhere we poll for mentions: a feed URL or a search/timeline on a network."""

    class Kind(models.TextChoices):
        FEED = "feed", _("RSS, Atom or JSON feed")
        MASTODON = "mastodon", _("Mastodon")
        BLUESKY = "bluesky", _("Bluesky")
        REDDIT = "reddit", _("Reddit")
        HACKERNEWS = "hackernews", _("Hacker News")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.FEED)
    name = models.CharField(_("name"), max_length=200, blank=True)
    # A feed's URL, or a network's base URL (instance, AppView, API root).
    url = models.TextField(_("address"))
    # What to read on the network, e.g. Mastodon {"mode": "tag", "value": "tribu"}.
    config = models.JSONField(default=dict, blank=True)
    # Access tokens and other credentials for the connector, as encrypted JSON; merged into
    # `config` only when polling (services.sources.connector_config), never shown back.
    secrets = EncryptedTextField(blank=True, default="")
    enabled = models.BooleanField(_("enabled"), default=True)
    # What the next poll needs: etag, last_modified, cursors, ids already seen.
    state = models.JSONField(default=dict, blank=True)

    # The schedule is data: the tick claims sources whose next_poll_at is due.
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    poll_interval_seconds = models.PositiveIntegerField(default=900)
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.TextField(blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # plain words, shown to the user
    last_error_at = models.DateTimeField(null=True, blank=True)
    items_seen = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        indexes = [models.Index(fields=["workspace", "kind"], name="source_ws_kind")]

    def __str__(self):
        return self.name or self.url


class Topic(models.Model):
    """A saved boolean query (see tribu.listening.query) that mentions are matched against."""

    class Kind(models.TextChoices):
        BRAND = "brand", _("Brand")
        COMPETITOR = "competitor", _("Competitor")
        SECTOR = "sector", _("Sector or keyword")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(_("name"), max_length=120)
    colour = models.CharField(
        _("colour"), max_length=7, default="#2563eb", validators=[colour_validator]
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.BRAND)
    query = models.TextField(_("query"))
    created_at = models.DateTimeField(default=now)
    # Changes whenever the query changes: the process-wide matcher rebuilds when
    # max(updated_at) or the count of topics moves.
    updated_at = models.DateTimeField(default=now, db_index=True)
    # Bumped on each query change; a re-match task only applies if the version it was
    # enqueued for is still current, so a stale task never overwrites newer results.
    version = models.PositiveIntegerField(default=1)
    rematch_requested_at = models.DateTimeField(null=True, blank=True)
    rematched_at = models.DateTimeField(null=True, blank=True)
    rematched_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_topic_name")
        ]

    def __str__(self):
        return self.name

    @property
    def rematch_pending(self):
        return self.rematched_version < self.version


class Author(models.Model):
    """Someone who wrote mentions in a workspace, identified per network by handle (or, for
    web pages without one, by site and name). Kept up to date at ingestion; the watch list
    is a flag here."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="authors", db_index=False
    )
    network = models.CharField(_("network"), max_length=16)
    # Lower-cased handle, or "site/name" for web authors: the identity on that network.
    key = models.CharField(max_length=255)
    name = models.CharField(_("name"), max_length=255, blank=True)
    handle = models.CharField(max_length=255, blank=True)
    url = models.TextField(blank=True)
    followers = models.PositiveBigIntegerField(null=True, blank=True)
    mentions_count = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=now)
    last_seen_at = models.DateTimeField(default=now)
    watched = models.BooleanField(_("watched"), default=False)
    watched_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "network", "key"], name="unique_author_key"
            )
        ]
        indexes = [
            models.Index(
                fields=["workspace", "name"], name="author_ws_watched", condition=Q(watched=True)
            ),
        ]

    def __str__(self):
        return self.name or self.handle or self.key


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")
    UNKNOWN = "unknown", _("Unknown")


class Mention(models.Model):
    """One item found by a source, stored once per workspace however often it is seen."""

    # No single-column indexes on these two: the composite indexes below start with them,
    # and every extra index slows the ingestion of each mention.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="mentions", db_index=False
    )
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentions",
        db_index=False,
    )
    network = models.CharField(_("network"), max_length=16, default="web")
    url = models.TextField(_("address"), blank=True)
    canonical_url = models.TextField(blank=True)
    guid = models.TextField(blank=True)
    title = models.TextField(_("title"), blank=True)
    text = models.TextField(_("text"), blank=True)  # plain text
    html = models.TextField(blank=True)  # sanitized with nh3
    author_name = models.CharField(_("author"), max_length=255, blank=True)
    author_handle = models.CharField(max_length=255, blank=True)
    author_url = models.TextField(blank=True)
    author_followers = models.PositiveBigIntegerField(null=True, blank=True)
    published_at = models.DateTimeField(_("published"))
    fetched_at = models.DateTimeField(default=now)
    lang = models.CharField(_("language"), max_length=8, blank=True, default="")
    # Set at ingestion (services/ingest.py, tribu.nlp): lang is "und" when the detector is
    # unsure; sentiment is "" for mentions stored before analysis existed, "unknown" for
    # languages without a sentiment model, and names the tier that produced it.
    lang_confidence = models.FloatField(null=True, blank=True)
    sentiment = models.CharField(
        _("sentiment"), max_length=8, blank=True, default="", choices=Sentiment.choices
    )
    sentiment_score = models.FloatField(_("sentiment score"), null=True, blank=True)
    sentiment_tier = models.CharField(max_length=8, blank=True, default="")  # fast|accurate|human
    author = models.ForeignKey(
        Author,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentions",
        db_index=False,
    )
    engagement = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    read = models.BooleanField(default=False)
    starred = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    # Near-duplicates (syndicated copies, boosts) seen elsewhere: see MentionCopy.
    also_seen = models.PositiveIntegerField(default=0)
    # Read-only convenience (prefetch_related("topics")); rows are written as MentionTopic.
    topics = models.ManyToManyField(
        Topic, through="MentionTopic", related_name="mentions", blank=True
    )

    # Orders the stream; unique; the SQLite full-text index's rowid (see module docstring).
    sort_key = models.BigIntegerField(unique=True)
    # Signed 64-bit hashes for duplicate detection (services/dedupe.py).
    url_key = models.BigIntegerField(null=True, blank=True)
    guid_key = models.BigIntegerField(null=True, blank=True)
    content_hash = models.BigIntegerField(null=True, blank=True)
    near_key = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-sort_key"]
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        indexes = [
            models.Index(fields=["workspace", "-sort_key"], name="mention_ws_time"),
            models.Index(fields=["source", "-sort_key"], name="mention_source_time"),
            models.Index(
                fields=["author", "-sort_key"],
                name="mention_author_time",
                condition=Q(author__isnull=False),
            ),
            models.Index(fields=["workspace", "network", "-sort_key"], name="mention_ws_net"),
            models.Index(fields=["workspace", "lang", "-sort_key"], name="mention_ws_lang"),
            models.Index(
                fields=["workspace", "sentiment", "-sort_key"], name="mention_ws_sentiment"
            ),
            models.Index(
                fields=["workspace", "-sort_key"],
                name="mention_ws_starred",
                condition=Q(starred=True),
            ),
            models.Index(
                fields=["workspace", "-sort_key"],
                name="mention_ws_unread",
                condition=Q(read=False),
            ),
            models.Index(
                fields=["workspace", "near_key"],
                name="mention_ws_near",
                condition=Q(near_key__isnull=False),
            ),
        ]
        constraints = [
            # Exact duplicates are stored once: by canonical URL, source guid, content hash.
            models.UniqueConstraint(
                fields=["workspace", "url_key"],
                name="unique_mention_url",
                condition=Q(url_key__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["source", "guid_key"],
                name="unique_mention_guid",
                condition=Q(guid_key__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["workspace", "content_hash"],
                name="unique_mention_content",
                condition=Q(content_hash__isnull=False),
            ),
        ]

    def __str__(self):
        return self.title or self.text[:80] or self.url


class MentionCopy(models.Model):
    """A near-duplicate of a mention seen at another address (syndication, boost, retweet):
    the stream shows the mention once, "also seen in N places"."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="copies")
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    url = models.TextField(blank=True)
    url_key = models.BigIntegerField(null=True, blank=True)
    author_name = models.CharField(max_length=255, blank=True)
    author_handle = models.CharField(max_length=255, blank=True)
    network = models.CharField(max_length=16, default="web")
    seen_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["seen_at", "id"]
        indexes = [
            models.Index(fields=["workspace", "url_key"], name="mentioncopy_ws_url"),
            models.Index(fields=["mention", "seen_at"], name="mentioncopy_mention"),
        ]


class MentionTopic(models.Model):
    """A mention matched a topic. workspace, published_at and sort_key are copied from the
    mention so "topic T, newest first" reads one index."""

    # Covered by unique_mention_topic and mentiontopic_topic_time respectively.
    mention = models.ForeignKey(
        Mention, on_delete=models.CASCADE, related_name="topic_links", db_index=False
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="mention_links", db_index=False
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    published_at = models.DateTimeField()
    sort_key = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mention", "topic"], name="unique_mention_topic")
        ]
        indexes = [
            models.Index(fields=["topic", "-sort_key"], name="mentiontopic_topic_time"),
        ]
