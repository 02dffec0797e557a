"""Personal API tokens: creation (shown once, stored hashed), authentication and revocation.

A token is scoped to one workspace and a role. It never grants more than its user holds
today: the effective role is the weaker of the token's role and the user's current
membership role, and a token stops working as soon as it is revoked, its user is
deactivated or its user leaves the workspace.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext as _

from tribu.api.models import ApiToken
from tribu.core.models import Membership
from tribu.core.roles import Role, has_permission, role_rank, weakest
from tribu.core.services import audit

TOKEN_PREFIX = "tribu_"  # noqa: S105 (a public marker, not a secret)
# 30 random bytes are exactly 40 url-safe characters.
TOKEN_RANDOM_BYTES = 30
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
# last_used_at is informative: one write a minute per token is plenty, and keeps a busy
# script from turning every API read into a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def how_to_get_a_token():
    return _(
        "Create one in Tribu (your workspace → API tokens) or with `tribu token create`, "
        "then send it as “Authorization: Bearer <token>”."
    )


class TokenError(ValueError):
    """A refused token operation; str(error) is a translated message for the user."""


class TokenAuthError(Exception):
    """Why a presented token cannot be used; str(error) is a translated message."""


@dataclass(frozen=True)
class TokenAccess:
    """What an authenticated request may reach: one workspace, with the effective role."""

    token: ApiToken
    membership: Membership
    role: str

    @property
    def user(self):
        return self.token.user

    @property
    def workspace(self):
        return self.token.workspace


def hash_token(raw_token):
    return hashlib.sha256(raw_token.encode()).hexdigest()


def generate_raw_token():
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)


def creatable_roles(membership):
    """The roles a member may give a new token: their own role or any weaker one."""
    rank = role_rank(membership.role)
    return [role for role in Role.values if role_rank(role) >= rank]


def active_membership(workspace, user):
    return (
        Membership.objects.select_related("workspace", "user")
        .filter(workspace=workspace, user=user, user__is_active=True)
        .first()
    )


def create_token(workspace, user, *, name, role, request=None):
    """Create a token for `user` in `workspace`. Returns (token, raw_token); the raw token
    is never stored and cannot be shown again."""
    name = (name or "").strip()
    if not name:
        raise TokenError(_("Give the token a name, such as the script that will use it."))
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise TokenError(_("The token name is too long: 100 characters at most."))
    if role not in Role.values:
        raise TokenError(
            _("“%(role)s” is not a role. Choose one of: %(roles)s.")
            % {"role": role, "roles": ", ".join(Role.values)}
        )
    membership = active_membership(workspace, user)
    if membership is None:
        raise TokenError(
            _("%(email)s is not a member of the workspace “%(workspace)s”.")
            % {"email": user.email, "workspace": workspace.slug}
        )
    if not has_permission(membership.role, "tokens.manage"):
        raise TokenError(_("Your role does not allow creating API tokens."))
    if role_rank(role) < role_rank(membership.role):
        raise TokenError(
            _(
                "A token cannot have more rights than its owner: %(email)s is %(member_role)s "
                "here, so choose %(member_role)s or a weaker role."
            )
            % {"email": user.email, "member_role": Role(membership.role).label}
        )
    raw_token = generate_raw_token()
    with transaction.atomic():
        token = ApiToken.objects.create(
            workspace=workspace,
            user=user,
            name=name,
            role=role,
            prefix=raw_token[:DISPLAY_PREFIX_LENGTH],
            token_hash=hash_token(raw_token),
        )
        audit.record(
            workspace,
            "token.created",
            actor=user,
            request=request,
            target=name,
            token_id=token.pk,
            prefix=token.prefix,
            role=role,
        )
    return token, raw_token


def visible_tokens(membership):
    """The tokens a member may see and revoke: their own, or everyone's in the workspace for
    those who manage members."""
    tokens = ApiToken.objects.filter(workspace_id=membership.workspace_id).select_related("user")
    if has_permission(membership.role, "members.manage"):
        return tokens
    return tokens.filter(user_id=membership.user_id)


def active_tokens(workspace):
    return ApiToken.objects.filter(workspace=workspace, revoked_at__isnull=True)


def revoke_token(token, *, actor, request=None):
    """Revoke a token. `actor=None` is reserved for operator commands, which are trusted."""
    if actor is not None and actor.pk != token.user_id:
        membership = active_membership(token.workspace, actor)
        if membership is None or not has_permission(membership.role, "members.manage"):
            raise TokenError(_("Only admins and owners may revoke another member's token."))
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now()
        )
        if not revoked:
            raise TokenError(_("This token was already revoked."))
        audit.record(
            token.workspace,
            "token.revoked",
            actor=actor,
            request=request,
            target=token.name,
            token_id=token.pk,
            prefix=token.prefix,
            owner=token.user.email,
        )
    token.refresh_from_db(fields=["revoked_at"])
    return token


def authenticate(raw_token):
    """The access a raw token grants right now, or TokenAuthError saying why it has none."""
    raw_token = (raw_token or "").strip()
    if not raw_token.startswith(TOKEN_PREFIX):
        raise TokenAuthError(
            _("This is not a Tribu API token (they start with “%(prefix)s”). %(how)s")
            % {"prefix": TOKEN_PREFIX, "how": how_to_get_a_token()}
        )
    token = (
        ApiToken.objects.select_related("user", "workspace")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )
    if token is None:
        raise TokenAuthError(
            _("This API token is unknown: check that it was copied whole. %(how)s")
            % {"how": how_to_get_a_token()}
        )
    if token.revoked_at is not None:
        raise TokenAuthError(
            _("This API token was revoked. %(how)s") % {"how": how_to_get_a_token()}
        )
    if not token.user.is_active:
        raise TokenAuthError(_("The account that owns this API token is deactivated."))
    membership = (
        Membership.objects.filter(workspace_id=token.workspace_id, user_id=token.user_id)
        .select_related("workspace", "user")
        .first()
    )
    if membership is None:
        raise TokenAuthError(
            _(
                "The owner of this API token is no longer a member of its workspace, so the "
                "token no longer works."
            )
        )
    touch(token)
    return TokenAccess(
        token=token, membership=membership, role=weakest(token.role, membership.role)
    )


def touch(token, at=None):
    """Record the use of a token, at most once per LAST_USED_RESOLUTION. The conditional
    UPDATE also keeps concurrent requests from writing the same row over and over."""
    at = at or now()
    if token.last_used_at is not None and at - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    updated = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=at - LAST_USED_RESOLUTION))
        .update(last_used_at=at)
    )
    if updated:
        token.last_used_at = at
    return bool(updated)
