"""Huey tasks of the listening app. Each task is idempotent: huey may run it again on retry,
and a re-match enqueued for an outdated topic version does nothing."""

from huey.contrib.djhuey import db_task

from tribu.listening.services import analysis, topics


@db_task(retries=3, retry_delay=60)
def rematch_topic(topic_id, version):
    """Recompute which stored mentions the topic matches, after its query changed."""
    return topics.rematch(topic_id, version)


@db_task(retries=2, retry_delay=120)
def refine_sentiment_task(mention_ids):
    """The accurate sentiment tier for newly matched mentions (services/analysis.py)."""
    return analysis.refine_sentiment(mention_ids)
