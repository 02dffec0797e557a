"""Audit-log sentences for publishing, added to core's SENTENCES (read at display time)."""

from django.utils.translation import gettext_lazy

from tribu.core.services.audit import SENTENCES

SENTENCES.update(
    {
        "post.created": gettext_lazy("%(actor)s created the post “%(target)s”."),
        "post.updated": gettext_lazy("%(actor)s edited the post “%(target)s”."),
        "post.submitted": gettext_lazy("%(actor)s sent the post “%(target)s” for review."),
        "post.approved": gettext_lazy("%(actor)s approved the post “%(target)s”."),
        "post.rejected": gettext_lazy("%(actor)s asked for changes to the post “%(target)s”."),
        "post.approved_by_client": gettext_lazy(
            "%(reviewer)s approved the post “%(target)s” through a client link."
        ),
        "post.rejected_by_client": gettext_lazy(
            "%(reviewer)s asked for changes to the post “%(target)s” through a client link."
        ),
        "post.reopened": gettext_lazy(
            "The post “%(target)s” was edited after its approval and went back to review."
        ),
        "post.scheduled": gettext_lazy("%(actor)s scheduled the post “%(target)s”."),
        "post.unscheduled": gettext_lazy("%(actor)s unscheduled the post “%(target)s”."),
        "post.deleted": gettext_lazy("%(actor)s deleted the post “%(target)s”."),
        "approval_link.created": gettext_lazy(
            "%(actor)s created a client approval link for the post “%(target)s”."
        ),
        "delivery.publish_now": gettext_lazy(
            "%(actor)s decided to publish “%(target)s” on %(channel)s now."
        ),
        "delivery.publish_again": gettext_lazy(
            "%(actor)s decided to publish “%(target)s” again on %(channel)s."
        ),
        "delivery.marked_published": gettext_lazy(
            "%(actor)s confirmed that “%(target)s” is published on %(channel)s."
        ),
        "delivery.rescheduled": gettext_lazy("%(actor)s rescheduled “%(target)s” on %(channel)s."),
        "delivery.dropped": gettext_lazy(
            "%(actor)s dropped the publication of “%(target)s” on %(channel)s."
        ),
        "ritual.created": gettext_lazy("%(actor)s created the ritual “%(target)s”."),
        "ritual.updated": gettext_lazy("%(actor)s changed the ritual “%(target)s”."),
        "ritual.skipped": gettext_lazy(
            "%(actor)s skipped an occurrence of the ritual “%(target)s”."
        ),
        "publishing.paused": gettext_lazy("%(actor)s paused all publishing (%(held)s posts held)."),
        "publishing.resumed": gettext_lazy(
            "%(actor)s resumed publishing (%(released)s posts released, %(stale)s too late "
            "to publish without a decision)."
        ),
        "publishing.settings_updated": gettext_lazy("%(actor)s changed the publishing settings."),
    }
)
