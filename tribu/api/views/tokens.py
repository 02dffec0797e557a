from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tribu.api.forms import TokenCreateForm
from tribu.api.services import tokens as token_service
from tribu.core.access import can, workspace_view


# Membership comes first: another workspace's addresses answer 404 whatever the method.
@workspace_view("tokens.manage")
@never_cache  # the page that shows a new token must not be kept by any cache
@require_http_methods(["GET", "POST"])
def token_list(request):
    membership = request.membership
    form = TokenCreateForm(request.POST or None, roles=token_service.creatable_roles(membership))
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw_token = token_service.create_token(
                request.workspace,
                request.user,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                request=request,
            )
        except token_service.TokenError as error:
            form.add_error(None, str(error))
        else:
            # Shown in this response only: it is neither stored nor put in the session.
            new_token = {"token": token, "raw": raw_token}
            form = TokenCreateForm(roles=token_service.creatable_roles(membership))
    visible = token_service.visible_tokens(membership).filter(revoked_at__isnull=True)
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "new_token": new_token,
            "my_tokens": [token for token in visible if token.user_id == request.user.pk],
            "other_tokens": [token for token in visible if token.user_id != request.user.pk],
            "sees_others": can(request, "members.manage"),
        },
    )


@workspace_view("tokens.manage")
def token_revoke(request, token_id):
    # The look-up comes before the method check, so that another workspace's token id
    # answers 404 whatever the method.
    token = get_object_or_404(token_service.visible_tokens(request.membership), pk=token_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        token_service.revoke_token(token, actor=request.user, request=request)
    except token_service.TokenError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Token “%(name)s” revoked: it no longer works.") % {"name": token.name}
        )
    return redirect("api:tokens", request.workspace.slug)
