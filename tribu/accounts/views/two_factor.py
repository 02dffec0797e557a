from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tribu.accounts.forms import ConfirmPasswordForm, TwoFactorConfirmForm, TwoFactorDisableForm
from tribu.accounts.services import two_factor
from tribu.accounts.views.account import render_settings


@login_required
@require_http_methods(["GET", "POST"])
def setup_view(request):
    user = request.user
    if user.has_two_factor:
        return redirect("accounts:settings")
    # The secret is prepared on first display and kept (encrypted, not yet active) so that
    # reloading the page shows the same QR code the app may already have scanned.
    if not user.totp_secret:
        two_factor.begin_setup(user)
    form = TwoFactorConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.enable(user, form.cleaned_data["code"], request=request)
        except two_factor.TwoFactorError as error:
            form.add_error("code", str(error))
        else:
            messages.success(request, _("Two-factor authentication is on."))
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
    uri = two_factor.provisioning_uri(user)
    context = {
        "form": form,
        "secret": user.totp_secret,
        # segno draws the URI as path data only; the text it writes (the title) is escaped.
        "qr_svg": mark_safe(two_factor.qr_svg(uri)),  # noqa: S308
    }
    return render(
        request, "accounts/two_factor_setup.html", context, status=400 if form.errors else 200
    )


@login_required
@require_POST
def disable_view(request):
    form = TwoFactorDisableForm(request.POST)
    if form.is_valid():
        try:
            two_factor.disable(
                request.user,
                form.cleaned_data["password"],
                form.cleaned_data["code"],
                request=request,
            )
        except two_factor.TwoFactorError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("accounts:settings")
    return render_settings(request, disable_form=form)


@login_required
@require_POST
def regenerate_view(request):
    form = ConfirmPasswordForm(request.POST)
    if form.is_valid():
        try:
            codes = two_factor.regenerate_recovery_codes(
                request.user, form.cleaned_data["password"], request=request
            )
        except two_factor.TwoFactorError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("New recovery codes are ready; the old ones no longer work.")
            )
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
    return render_settings(request, regenerate_form=form)
