"""Workspaces and memberships: creation and the scoped look-ups every view goes through."""

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from tribu.core.models import RESERVED_SLUGS, Membership, Workspace
from tribu.core.roles import Role
from tribu.core.services import audit


class WorkspaceError(ValueError):
    pass


def validate_slug(slug):
    if slug in RESERVED_SLUGS:
        raise WorkspaceError(_("“%(slug)s” is reserved: choose another address.") % {"slug": slug})
    if Workspace.objects.filter(slug=slug).exists():
        raise WorkspaceError(
            _("The address “%(slug)s” is already taken. Choose another one.") % {"slug": slug}
        )


@transaction.atomic
def create_workspace(*, slug, name, owner, timezone="Europe/Paris", language="fr", request=None):
    validate_slug(slug)
    workspace = Workspace.objects.create(slug=slug, name=name, timezone=timezone, language=language)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    audit.record(workspace, "workspace.created", actor=owner, request=request, target=name)
    return workspace


def workspaces_for(user):
    return Workspace.objects.filter(memberships__user=user, memberships__user__is_active=True)


def membership_or_404(user, slug):
    """The user's membership in the workspace `slug`; 404 for non-members, so that a
    workspace's existence is never revealed to outsiders."""
    if not user.is_authenticated:
        raise Http404
    try:
        return Membership.objects.select_related("workspace").get(
            workspace__slug=slug, user=user, user__is_active=True
        )
    except Membership.DoesNotExist:
        raise Http404 from None
