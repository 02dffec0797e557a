"""The team page: members, their roles, pending invitations."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tribu.core.access import can, workspace_view
from tribu.core.forms import InviteForm, RoleForm
from tribu.core.models import Membership
from tribu.core.roles import ROLE_DESCRIPTIONS, ROLE_ORDER, Role
from tribu.core.services import members as service


def _team_context(request, invite_form=None):
    workspace, mine = request.workspace, request.membership
    roles = service.grantable_roles(mine)
    manage = can(request, "members.manage")
    owners_manage = can(request, "owners.manage")
    rows = []
    for membership in workspace.memberships.select_related("user"):
        editable = (
            manage
            and membership.user_id != mine.user_id
            and (membership.role != Role.OWNER or owners_manage)
        )
        rows.append(
            {
                "membership": membership,
                "is_me": membership.user_id == mine.user_id,
                "editable": editable,
                # Same name as RoleForm(prefix=f"m{id}") expects; the select is written in the
                # template because 200 rendered widgets would cost ~100 ms per page.
                "role_field": f"m{membership.id}-role",
            }
        )
    if invite_form is None and can(request, "members.invite"):
        invite_form = InviteForm(roles=roles)
    return {
        "rows": rows,
        "role_choices": [(role, str(Role(role).label)) for role in roles],
        "invitations": service.pending_invitations(workspace).select_related("invited_by"),
        "invite_form": invite_form,
        "can_invite": can(request, "members.invite"),
        "can_revoke_owner": owners_manage,
        "roles": [(role, Role(role).label, ROLE_DESCRIPTIONS[role]) for role in ROLE_ORDER],
    }


@workspace_view("members.view")
@require_GET
def member_list(request):
    return render(request, "core/members.html", _team_context(request))


@workspace_view("members.invite")
@require_POST
def member_invite(request):
    form = InviteForm(request.POST, roles=service.grantable_roles(request.membership))
    if form.is_valid():
        try:
            service.invite(
                request.workspace,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                request=request,
            )
        except service.MemberError as error:
            form.add_error("email", str(error))
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. The link works for 7 days.")
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("core:members", request.workspace.slug)
    return render(
        request, "core/members.html", _team_context(request, invite_form=form), status=400
    )


def _member(request, member_id):
    # Scoped to the current workspace: another workspace's member is a 404, and it is looked
    # up before the method check so that the answer is 404 whatever the method.
    return get_object_or_404(
        Membership.objects.select_related("user", "workspace"),
        pk=member_id,
        workspace=request.workspace,
    )


@workspace_view("members.manage")
def member_role(request, member_id):
    membership = _member(request, member_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RoleForm(
        request.POST,
        roles=service.grantable_roles(request.membership),
        prefix=f"m{membership.id}",
    )
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles offered in the list."))
        return redirect("core:members", request.workspace.slug)
    try:
        service.change_role(
            membership,
            form.cleaned_data["role"],
            actor_membership=request.membership,
            request=request,
        )
    except service.MemberError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(member)s is now %(role)s.")
            % {
                "member": membership.user.display_name,
                "role": Role(form.cleaned_data["role"]).label,
            },
        )
    return redirect("core:members", request.workspace.slug)


@workspace_view("members.manage")
def member_remove(request, member_id):
    membership = _member(request, member_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        service.remove_member(membership, actor_membership=request.membership, request=request)
    except service.MemberError as error:
        messages.error(request, str(error))
        return redirect("core:members", request.workspace.slug)
    if membership.user_id == request.user.id:
        messages.success(request, _("You left %(workspace)s.") % {"workspace": request.workspace})
        return redirect("core:home")
    messages.success(
        request,
        _("%(member)s no longer has access to this workspace.")
        % {"member": membership.user.display_name},
    )
    return redirect("core:members", request.workspace.slug)


@workspace_view("members.view")
@require_POST
def member_leave(request):
    """Anyone may leave a workspace, except its last owner."""
    try:
        service.remove_member(
            request.membership, actor_membership=request.membership, request=request
        )
    except service.MemberError as error:
        messages.error(request, str(error))
        return redirect("core:members", request.workspace.slug)
    messages.success(request, _("You left %(workspace)s.") % {"workspace": request.workspace})
    return redirect("core:home")
