from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import field_validator

from tribu.api.v1.errors import ApiError
from tribu.api.v1.pagination import PageQuery, paginate
from tribu.api.v1.permissions import require
from tribu.core.models import Invitation, Membership
from tribu.core.roles import Role, has_permission
from tribu.core.services import members as members_service

router = Router(tags=["members"])

RoleName = Literal[tuple(Role.values)]


class MemberOut(Schema):
    id: int
    user_id: int
    email: str
    name: str
    role: str
    joined_at: datetime


class MemberPage(Schema):
    items: list[MemberOut]
    next: str | None


class RoleIn(Schema):
    role: RoleName


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    invited_by: str | None
    created_at: datetime
    expires_at: datetime


class InvitationPage(Schema):
    items: list[InvitationOut]
    next: str | None


class InvitationIn(Schema):
    email: str
    role: RoleName

    @field_validator("email")
    @classmethod
    def valid_email(cls, value):
        value = value.strip()
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError(_("Enter a valid email address, such as name@example.com.")) from None
        return value


def member_out(membership):
    return {
        "id": membership.pk,
        "user_id": membership.user_id,
        "email": membership.user.email,
        "name": membership.user.name,
        "role": membership.role,
        "joined_at": membership.created_at,
    }


def invitation_out(invitation):
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "invited_by": invitation.invited_by.email if invitation.invited_by else None,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }


def workspace_members(request):
    return Membership.objects.filter(workspace=request.auth.workspace).select_related("user")


def acting_membership(request):
    """The token user's membership with the token's effective role: the member services
    check this role, so a token never does more than its own role allows."""
    access = request.auth
    membership = access.membership
    return Membership(
        pk=membership.pk, workspace=access.workspace, user=access.user, role=access.role
    )


def require_owner_rights(request, message):
    if not has_permission(request.auth.role, "owners.manage"):
        raise ApiError(403, "forbidden", message)


# Members -------------------------------------------------------------------------------


@router.get("/members", response=MemberPage)
@require("members.view")
def list_members(request, page: Query[PageQuery]):
    return paginate(workspace_members(request), page, member_out)


@router.get("/members/{member_id}", response=MemberOut)
@require("members.view")
def get_member(request, member_id: int):
    return member_out(get_object_or_404(workspace_members(request), pk=member_id))


@router.patch("/members/{member_id}", response=MemberOut, summary="Change a member's role")
@require("members.manage")
def change_member_role(request, member_id: int, payload: RoleIn):
    membership = get_object_or_404(workspace_members(request), pk=member_id)
    if Role.OWNER in (membership.role, payload.role):
        require_owner_rights(request, _("Only an owner can grant or take away the owner role."))
    membership = members_service.change_role(
        membership, payload.role, actor_membership=acting_membership(request), request=request
    )
    return member_out(membership)


@router.delete("/members/{member_id}", response={204: None}, summary="Remove a member")
@require("members.manage")
def remove_member(request, member_id: int):
    membership = get_object_or_404(workspace_members(request), pk=member_id)
    if membership.role == Role.OWNER:
        require_owner_rights(request, _("Only an owner can remove an owner."))
    members_service.remove_member(
        membership, actor_membership=acting_membership(request), request=request
    )
    return HttpResponse(status=204)


# Invitations ---------------------------------------------------------------------------


def workspace_invitations(request):
    return Invitation.objects.filter(workspace=request.auth.workspace).select_related("invited_by")


@router.get("/invitations", response=InvitationPage, summary="Pending invitations")
@require("members.view")
def list_invitations(request, page: Query[PageQuery]):
    pending = members_service.pending_invitations(request.auth.workspace).select_related(
        "invited_by"
    )
    return paginate(pending, page, invitation_out)


@router.post("/invitations", response={201: InvitationOut}, summary="Invite someone by email")
@require("members.invite")
def create_invitation(request, payload: InvitationIn, response: HttpResponse):
    if payload.role == Role.OWNER:
        require_owner_rights(request, _("Only an owner can invite another owner."))
    invitation, _raw_token = members_service.invite(
        request.auth.workspace,
        email=payload.email,
        role=payload.role,
        invited_by=request.auth.user,
        request=request,
    )
    response.status_code = 201
    return invitation_out(invitation)


@router.delete("/invitations/{invitation_id}", response={204: None}, summary="Revoke an invitation")
@require("members.invite")
def revoke_invitation(request, invitation_id: int):
    invitation = get_object_or_404(workspace_invitations(request), pk=invitation_id)
    if invitation.role == Role.OWNER:
        require_owner_rights(request, _("Only an owner can revoke an owner invitation."))
    members_service.revoke_invitation(invitation, actor=request.auth.user, request=request)
    return HttpResponse(status=204)
