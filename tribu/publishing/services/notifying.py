"""The "delivery.attention" notification: a post failed, its outcome is unknown, or it was
published with something missing (a first comment the network refused)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribu.notifications.kinds import register_kind

KIND = "delivery.attention"


def title(params):
    names = {"channel": params.get("channel", "")}
    if params.get("warning"):
        return _("Published on %(channel)s, but something is missing") % names
    if params.get("state") == "unknown":
        return _("Was it published on %(channel)s? Please check") % names
    return _("A post could not be published on %(channel)s") % names


def body(params):
    if params.get("warning"):
        return _("“%(post)s”: %(warning)s") % {
            "post": params.get("post", ""),
            "warning": params["warning"],
        }
    if params.get("state") == "unknown":
        text = _(
            "“%(post)s”: the network did not answer after the post was sent, and Tribu "
            "could not find it there. Tell Tribu whether it was published, or publish again."
        )
    else:
        text = _("“%(post)s”: %(error)s")
    return text % {"post": params.get("post", ""), "error": params.get("error", "")}


register_kind(
    KIND,
    title=title,
    body=body,
    permission="content.schedule",
    label=gettext_lazy("Posts that need a decision"),
)


def delivery_needs_attention(delivery_id, *, warning=""):
    from tribu.notifications.services import notify
    from tribu.publishing.models import Delivery

    delivery = Delivery.objects.select_related("post", "channel", "workspace").get(pk=delivery_id)
    url = reverse("publishing:post", args=[delivery.workspace.slug, delivery.post_id])
    params = {
        "state": delivery.state,
        "channel": delivery.channel.name,
        "post": str(delivery.post)[:120],
        "error": delivery.error_message[:500],
        "delivery_id": delivery.pk,
    }
    if warning:
        params["warning"] = warning[:1000]
    return notify(delivery.workspace, KIND, params=params, url=url)


REVIEW_KIND = "post.review_requested"


def review_title(params):
    return _("A post waits for your approval: “%(post)s”") % {"post": params.get("post", "")}


def review_body(params):
    return _("%(author)s sent “%(post)s” for review.") % {
        "author": params.get("author", ""),
        "post": params.get("post", ""),
    }


register_kind(
    REVIEW_KIND,
    title=review_title,
    body=review_body,
    permission="content.approve",
    label=gettext_lazy("Posts to approve"),
)


def review_requested(post, actor):
    from tribu.notifications.services import notify

    url = reverse("publishing:post", args=[post.workspace.slug, post.pk])
    author = getattr(actor, "display_name", "") or getattr(actor, "email", "")
    params = {"post": str(post)[:120], "author": author, "post_id": post.pk}
    return notify(post.workspace, REVIEW_KIND, params=params, url=url, actor=actor)
