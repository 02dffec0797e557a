"""Invitation links: revoking them from the team page, and accepting them."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tribu.accounts.models import User
from tribu.core.access import workspace_view
from tribu.core.forms import SignUpForm
from tribu.core.models import Invitation
from tribu.core.services import members as service


@workspace_view("members.invite")
def invitation_revoke(request, invitation_id):
    # Looked up before the method check, so that another workspace's id is a 404 whatever
    # the method.
    invitation = get_object_or_404(Invitation, pk=invitation_id, workspace=request.workspace)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        service.revoke_invitation(invitation, actor=request.user, request=request)
    except service.MemberError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email}
        )
    return redirect("core:members", request.workspace.slug)


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    """One page for every visitor of an invitation link.

    Signed in with the invited address: confirm and join. Signed in as someone else:
    explain and offer to sign out. Not signed in: sign in (existing account) or sign up.
    """
    invitation = service.find_invitation(token)
    problem = service.invitation_problem(invitation)
    if problem:
        # Unknown links are 404; links that existed but can no longer be used are 410 Gone.
        return render(
            request,
            "core/invitation_invalid.html",
            {"problem": problem},
            status=404 if invitation is None else 410,
        )
    here = reverse("core:invitation_accept", args=[token])
    context = {"invitation": invitation, "inviter": invitation.invited_by}
    user = request.user

    if user.is_authenticated and request.POST.get("action") == "sign-out":
        auth.logout(request)
        return redirect(here)

    if user.is_authenticated:
        if user.email != invitation.email:
            return render(request, "core/invitation_other_account.html", context)
        if request.method == "POST":
            return _join(request, lambda: service.accept_invitation(token, user, request=request))
        return render(request, "core/invitation_confirm.html", context)

    if User.objects.filter(email=invitation.email).exists():
        context["login_url"] = reverse("accounts:login") + "?" + urlencode({"next": here})
        return render(request, "core/invitation_sign_in.html", context)

    form = SignUpForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        return _join(
            request,
            lambda: service.accept_with_new_account(
                token,
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password1"],
                request=request,
            ),
            sign_in=True,
        )
    return render(request, "core/invitation_sign_up.html", {**context, "form": form})


def _join(request, accept, sign_in=False):
    try:
        membership = accept()
    except service.MemberError as error:
        return render(request, "core/invitation_invalid.html", {"problem": str(error)}, status=410)
    if sign_in:
        auth.login(request, membership.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    messages.success(
        request,
        _("Welcome to %(workspace)s. Your role is %(role)s.")
        % {"workspace": membership.workspace.name, "role": membership.get_role_display()},
    )
    return redirect("core:workspace_home", membership.workspace.slug)
