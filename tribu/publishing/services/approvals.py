"""Client approval links: signed, expiring, single-use links that let someone without an
account approve or reject one revision of a post, with a comment.

Only a SHA-256 of the token is stored. A link is refused once used, once expired, and once
the post changed since it was made (the client must see what they approve).
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.core.services.audit import record
from tribu.publishing.models import ApprovalLink, PostStatus
from tribu.publishing.services import posts
from tribu.publishing.services.posts import PostError

DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=30)


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(post, actor, role, *, reviewer_name="", lifetime=DEFAULT_LIFETIME,
                request=None):  # fmt: skip
    """Returns (link, token). The token is shown once, inside the URL."""
    posts.require(role, "content.draft")
    if post.status == PostStatus.DRAFT:
        posts.submit(post, actor, role, request=request)
    elif post.status != PostStatus.IN_REVIEW:
        raise PostError(
            _("Only a post waiting for review can be sent to a client for approval."),
            code="state",
        )
    lifetime = min(max(lifetime, timedelta(hours=1)), MAX_LIFETIME)
    token = secrets.token_urlsafe(32)
    link = ApprovalLink.objects.create(
        post=post, token_hash=token_hash(token), revision=post.revision,
        reviewer_name=reviewer_name[:255], created_by=actor,
        expires_at=timezone.now() + lifetime,
    )  # fmt: skip
    record(post.workspace, "approval_link.created", actor=actor, request=request,
           target=str(post)[:120], post_id=post.pk)  # fmt: skip
    return link, token


class LinkProblem(Exception):
    """Why a link cannot be used, for the person holding it."""


def link_for_token(token, *, now=None):
    """The usable link for `token`; raises LinkProblem (with a message) otherwise."""
    now = now or timezone.now()
    digest = token_hash(token or "")
    link = (
        ApprovalLink.objects.select_related("post", "post__workspace")
        .filter(token_hash=digest)
        .first()
    )
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        raise LinkProblem(_("This approval link is not valid. Ask for a new one."))
    if link.used_at is not None:
        raise LinkProblem(
            _("This link was already used on %(date)s. Ask for a new one if needed.")
            % {"date": timezone.localtime(link.used_at).strftime("%Y-%m-%d %H:%M")}
        )
    if link.expires_at <= now:
        raise LinkProblem(_("This approval link has expired. Ask for a new one."))
    if link.revision != link.post.revision or link.post.status != PostStatus.IN_REVIEW:
        raise LinkProblem(
            _("The post changed since this link was sent. Ask for a new link to see it.")
        )
    return link


def decide(token, decision, *, name, comment="", request=None):
    """Approve or reject through a link. Single use, even with two clicks at once."""
    name = (name or "").strip()
    if not name:
        raise PostError(_("Write your name, so the team knows who decided."), field="name")
    link = link_for_token(token)
    with transaction.atomic():
        used = ApprovalLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
            used_at=timezone.now(), decision=decision
        )
        if not used:
            raise LinkProblem(_("This link was just used. Ask for a new one if needed."))
        if decision == "approved":
            posts.approve(link.post, None, None, comment=comment, request=request,
                          reviewer_name=name)  # fmt: skip
        elif decision == "rejected":
            posts.reject(link.post, None, None, comment=comment, request=request,
                         reviewer_name=name)  # fmt: skip
        else:
            raise PostError(_("Choose to approve or to ask for changes."), field="decision")
    return link
