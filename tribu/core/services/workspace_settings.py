"""Changing and deleting a workspace."""

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from tribu.core.models import Membership
from tribu.core.roles import Role
from tribu.core.services import audit
from tribu.core.services.audit import client_ip

logger = logging.getLogger(__name__)


def update_workspace(form, *, request=None):
    """Save the settings form and record which fields changed."""
    changed = [name for name in form.changed_data if name != "logo"]
    old_logo = form.initial.get("logo")
    logo_changed = "logo" in form.changed_data
    if {"audit_digest", "timezone"} & set(changed):
        # The next tick reschedules the digest on the new frequency or local midnight.
        form.instance.next_audit_digest_at = None
    workspace = form.save()
    if logo_changed and old_logo and old_logo.name != workspace.logo.name:
        old_logo.storage.delete(old_logo.name)
    if changed or logo_changed:
        audit.record(
            workspace,
            "workspace.updated",
            request=request,
            target=workspace.name,
            fields=changed + (["logo"] if logo_changed else []),
        )
    return workspace


def delete_workspace(workspace, *, actor, request=None):
    """Delete the workspace and everything in it.

    Its audit log goes with it, so the deletion is recorded where it outlives the
    workspace: the server log, and an email to every owner.
    """
    owners = list(
        Membership.objects.filter(workspace=workspace, role=Role.OWNER, user__is_active=True)
        .select_related("user")
        .values_list("user__email", flat=True)
    )
    name, slug, logo = workspace.name, workspace.slug, workspace.logo
    with transaction.atomic():
        workspace.delete()
    if logo:
        logo.storage.delete(logo.name)
    logger.warning(
        "workspace.deleted slug=%s name=%r by=%s ip=%s",
        slug,
        name,
        actor.email,
        client_ip(request),
    )
    with translation.override(workspace.language):
        subject = _("Workspace “%(name)s” was deleted") % {"name": name}
        body = _(
            "%(actor)s deleted the workspace “%(name)s” (%(slug)s) and all its content. "
            "You receive this email because you were one of its owners."
        ) % {"actor": actor.email, "name": name, "slug": slug}
    try:
        send_mail(subject, body, None, owners)
    except Exception:
        # The deletion itself succeeded and is in the server log; do not report a failure.
        logger.exception("Could not email the owners of deleted workspace %s", slug)
