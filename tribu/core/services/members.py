"""Members and invitations: every change to who belongs to a workspace, and with which role.

Views and the API call these functions; they check the role matrix themselves so that no
caller can forget to. Rules:

- inviting needs "members.invite"; changing or removing members needs "members.manage";
- granting, changing or removing the owner role needs "owners.manage";
- a workspace always keeps at least one owner;
- anyone may remove themselves (leave), unless they are the last owner.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.timezone import now
from django.utils.translation import gettext as _

from tribu.accounts.models import User
from tribu.core.models import Invitation, Membership
from tribu.core.roles import ROLE_ORDER, Role, has_permission
from tribu.core.services import audit

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=7)


class MemberError(ValueError):
    """A refused change; str(error) is a translated message for the user."""


def hash_token(raw_token):
    return hashlib.sha256(raw_token.encode()).hexdigest()


def invitation_url(raw_token):
    return f"{settings.TRIBU_BASE_URL}/invitations/{raw_token}/"


def grantable_roles(membership):
    """The roles this member may give to others (invite with, or change to)."""
    if not has_permission(membership.role, "members.invite") and not has_permission(
        membership.role, "members.manage"
    ):
        return []
    if has_permission(membership.role, "owners.manage"):
        return list(ROLE_ORDER)
    return [role for role in ROLE_ORDER if role != Role.OWNER]


def _membership_of(workspace, user):
    if user is None:
        return None
    return Membership.objects.filter(workspace=workspace, user=user, user__is_active=True).first()


def _require(membership, permission, message):
    if membership is None or not has_permission(membership.role, permission):
        raise MemberError(message)


def _owner_count(workspace):
    # Locking the owner rows makes two concurrent demotions of the last two owners queue
    # up on PostgreSQL; SQLite's IMMEDIATE transactions already serialize writers.
    return len(
        Membership.objects.select_for_update()
        .filter(workspace=workspace, role=Role.OWNER, user__is_active=True)
        .values_list("id", flat=True)
    )


def _role_label(role):
    return str(Role(role).label)


# Invitations ---------------------------------------------------------------------------


def pending_invitations(workspace):
    return Invitation.objects.filter(
        workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now()
    )


def invite(workspace, *, email, role, invited_by, request=None):
    """Create a pending invitation and email its link. Returns (invitation, raw_token).

    `invited_by=None` is reserved for operator commands, which are trusted.
    """
    email = User.objects.normalize_email(email)
    if role not in Role.values:
        raise MemberError(
            _("“%(role)s” is not a role. Choose a role from the list.") % {"role": role}
        )
    if invited_by is not None:
        inviter = _membership_of(workspace, invited_by)
        _require(inviter, "members.invite", _("Your role does not allow inviting members."))
        if role == Role.OWNER:
            _require(inviter, "owners.manage", _("Only an owner can invite another owner."))
    if Membership.objects.filter(workspace=workspace, user__email=email).exists():
        raise MemberError(_("%(email)s is already a member of this workspace.") % {"email": email})
    if pending_invitations(workspace).filter(email=email).exists():
        raise MemberError(
            _("%(email)s already has a pending invitation. Revoke it first to send a new one.")
            % {"email": email}
        )
    raw_token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            workspace=workspace,
            email=email,
            role=role,
            token_hash=hash_token(raw_token),
            invited_by=invited_by,
            expires_at=now() + INVITATION_LIFETIME,
        )
        audit.record(
            workspace,
            "member.invited",
            actor=invited_by,
            request=request,
            target=email,
            role=role,
        )
    try:
        send_invitation_email(invitation, raw_token)
    except Exception as error:
        # An invitation nobody received would block re-inviting for a week: undo it.
        logger.exception("Could not send the invitation email to %s", email)
        invitation.delete()
        raise MemberError(
            _(
                "The invitation email could not be sent (%(error)s). Ask the operator to "
                "check the email settings (TRIBU_EMAIL_URL), then try again."
            )
            % {"error": error.__class__.__name__}
        ) from error
    return invitation, raw_token


def send_invitation_email(invitation, raw_token):
    workspace = invitation.workspace
    inviter = invitation.invited_by
    # The email speaks the workspace's language: the invitee has no preference yet.
    with translation.override(workspace.language):
        context = {
            "workspace": workspace,
            "inviter": inviter.display_name if inviter else "",
            "role": _role_label(invitation.role),
            "url": invitation_url(raw_token),
            "expires_at": invitation.expires_at.astimezone(workspace.tzinfo),
        }
        subject = _("You are invited to join %(workspace)s on Tribu") % {
            "workspace": workspace.name
        }
        body = render_to_string("core/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


def find_invitation(raw_token):
    if not raw_token:
        return None
    return (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )


def invitation_problem(invitation):
    """Why this invitation cannot be used any more, or None if it can."""
    if invitation is None:
        return _("This invitation link is not valid. Check that you copied the whole link.")
    if invitation.revoked_at is not None:
        return _("This invitation was cancelled. Ask the person who invited you for a new one.")
    if invitation.accepted_at is not None:
        return _(
            "This invitation has already been used. Sign in to reach the workspace, or ask "
            "for a new invitation."
        )
    if invitation.expires_at <= now():
        return _("This invitation has expired. Ask the person who invited you for a new one.")
    return None


def accept_invitation(raw_token, user, request=None):
    """Join the workspace with the invitation's role. Single use."""
    invitation = find_invitation(raw_token)
    problem = invitation_problem(invitation)
    if problem:
        raise MemberError(problem)
    if User.objects.normalize_email(user.email) != invitation.email:
        raise MemberError(
            _("This invitation was sent to %(email)s. Sign in with that address to accept it.")
            % {"email": invitation.email}
        )
    with transaction.atomic():
        # The conditional UPDATE is what makes the link single-use, even when two requests
        # race: only one of them changes the row.
        used = Invitation.objects.filter(
            pk=invitation.pk,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now(),
        ).update(accepted_at=now(), accepted_by=user)
        if not used:
            raise MemberError(_("This invitation has already been used."))
        membership, created = Membership.objects.get_or_create(
            workspace=invitation.workspace, user=user, defaults={"role": invitation.role}
        )
        audit.record(
            invitation.workspace,
            "invitation.accepted",
            actor=user,
            request=request,
            target=user.email,
            role=membership.role,
        )
    return membership


def accept_with_new_account(raw_token, *, name, password, request=None):
    """Create the invited person's account and join: holding the link proves the address."""
    invitation = find_invitation(raw_token)
    problem = invitation_problem(invitation)
    if problem:
        raise MemberError(problem)
    with transaction.atomic():
        if User.objects.filter(email=invitation.email).exists():
            raise MemberError(
                _("An account already exists for %(email)s: sign in to accept the invitation.")
                % {"email": invitation.email}
            )
        user = User.objects.create_user(invitation.email, password, name=name)
        membership = accept_invitation(raw_token, user, request=request)
    return membership


def revoke_invitation(invitation, *, actor, request=None):
    actor_membership = _membership_of(invitation.workspace, actor)
    _require(
        actor_membership, "members.invite", _("Your role does not allow managing invitations.")
    )
    if invitation.role == Role.OWNER:
        _require(
            actor_membership, "owners.manage", _("Only an owner can revoke an owner invitation.")
        )
    with transaction.atomic():
        revoked = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now())
        if not revoked:
            raise MemberError(_("This invitation was already used or revoked."))
        audit.record(
            invitation.workspace,
            "invitation.revoked",
            actor=actor,
            request=request,
            target=invitation.email,
            role=invitation.role,
        )


# Members -------------------------------------------------------------------------------


def _check_same_workspace(membership, actor_membership):
    if actor_membership is None or membership.workspace_id != actor_membership.workspace_id:
        raise MemberError(_("This member belongs to another workspace."))


def change_role(membership, new_role, *, actor_membership, request=None):
    _check_same_workspace(membership, actor_membership)
    if new_role not in Role.values:
        raise MemberError(
            _("“%(role)s” is not a role. Choose a role from the list.") % {"role": new_role}
        )
    _require(actor_membership, "members.manage", _("Your role does not allow changing roles."))
    if Role.OWNER in (membership.role, new_role):
        _require(
            actor_membership,
            "owners.manage",
            _("Only an owner can grant or take away the owner role."),
        )
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        old_role = membership.role
        if old_role == new_role:
            return membership
        if old_role == Role.OWNER and _owner_count(membership.workspace) <= 1:
            raise MemberError(
                _("A workspace needs at least one owner: make someone else an owner first.")
            )
        membership.role = new_role
        membership.save(update_fields=["role"])
        audit.record(
            membership.workspace,
            "member.role_changed",
            actor=actor_membership.user,
            request=request,
            target=membership.user.email,
            old_role=old_role,
            new_role=new_role,
        )
    return membership


def remove_member(membership, *, actor_membership, request=None):
    _check_same_workspace(membership, actor_membership)
    leaving = membership.user_id == actor_membership.user_id
    if not leaving:
        _require(
            actor_membership, "members.manage", _("Your role does not allow removing members.")
        )
        if membership.role == Role.OWNER:
            _require(actor_membership, "owners.manage", _("Only an owner can remove an owner."))
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.OWNER and _owner_count(membership.workspace) <= 1:
            raise MemberError(
                _(
                    "A workspace needs at least one owner: make someone else an owner before "
                    "this member leaves."
                )
            )
        workspace, user = membership.workspace, membership.user
        membership.delete()
        # The API refuses tokens of non-members anyway; revoking them too means a later
        # re-invitation does not silently bring old tokens back to life.
        apps.get_model("api", "ApiToken").objects.filter(
            workspace=workspace, user=user, revoked_at__isnull=True
        ).update(revoked_at=now())
        if user.last_workspace_id == workspace.id:
            user.last_workspace = None
            user.save(update_fields=["last_workspace"])
        audit.record(
            workspace,
            "member.removed",
            actor=actor_membership.user,
            request=request,
            target=user.email,
            role=membership.role,
            left=leaving,
        )
