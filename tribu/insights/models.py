"""Aggregates of the mention stream, maintained at ingestion (services/aggregates.py), so
dashboards, trends and alerts read a few thousand small rows instead of scanning up to
millions of mentions per request.

Every aggregate has a scope: `topic_key` is a topic's id, or 0 for all mentions of the
workspace (matched or not). No foreign key to Topic: 0 must be a valid value, and deleting
a topic deletes its rows explicitly (listening.services.topics.delete_topic).

Hours are UTC hours; days are UTC days. Charts group hours into local days in the
workspace's time zone; rankings (sources, authors, terms) read UTC days, which moves a
period's edges by the time zone's offset at most.
"""

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from tribu.core.models import Workspace
from tribu.listening.models import Mention, Sentiment

WORKSPACE_SCOPE = 0


class VolumeBucket(models.Model):
    """Mentions of one scope in one UTC hour, per network and sentiment."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    topic_key = models.BigIntegerField()
    hour = models.DateTimeField()
    network = models.CharField(max_length=16)
    sentiment = models.CharField(max_length=8, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "topic_key", "hour", "network", "sentiment"],
                name="unique_volume_bucket",
            )
        ]


class SourceDay(models.Model):
    """Mentions of one scope per source and UTC day (source_key 0: no source)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    topic_key = models.BigIntegerField()
    day = models.DateField()
    source_key = models.BigIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "topic_key", "day", "source_key"], name="unique_source_day"
            )
        ]


class AuthorDay(models.Model):
    """One author's mentions in one scope and UTC day, with their engagement and tone."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    topic_key = models.BigIntegerField()
    day = models.DateField()
    author_key = models.BigIntegerField()  # listening.Author id
    count = models.IntegerField(default=0)
    engagement = models.BigIntegerField(default=0)  # likes + reposts + replies…, summed
    negative = models.IntegerField(default=0)
    positive = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "topic_key", "day", "author_key"], name="unique_author_day"
            )
        ]
        indexes = [
            models.Index(fields=["author_key", "day"], name="authorday_author"),
        ]


class TermDay(models.Model):
    """How many mentions of one scope used a term (word, #hashtag or link) on a UTC day.

    Housekeeping drops single-use terms of very busy days (see aggregates.prune_terms), so
    big workspaces stay fast; small ones keep every term."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    topic_key = models.BigIntegerField()
    day = models.DateField()
    term = models.CharField(max_length=200)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "topic_key", "day", "term"], name="unique_term_day"
            )
        ]


class SentimentCorrection(models.Model):
    """A team member's sentiment for a mention, with what the model had said: the mention
    shows the team's label, and the evaluation page compares the two."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    mention = models.OneToOneField(
        Mention, on_delete=models.CASCADE, related_name="sentiment_correction"
    )
    label = models.CharField(_("sentiment"), max_length=8, choices=Sentiment.choices)
    model_label = models.CharField(max_length=8, blank=True)
    model_score = models.FloatField(null=True, blank=True)
    model_tier = models.CharField(max_length=8, blank=True)
    lang = models.CharField(max_length=8, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    corrected_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-corrected_at", "-id"]
        verbose_name = _("sentiment correction")
        verbose_name_plural = _("sentiment corrections")
        indexes = [
            models.Index(fields=["workspace", "-corrected_at"], name="correction_ws_time"),
        ]

    @property
    def model_label_display(self):
        return dict(Sentiment.choices).get(self.model_label, self.model_label)
