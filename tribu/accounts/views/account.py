"""The account settings page: name, language, password and the two-factor section."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tribu.accounts.forms import (
    ConfirmPasswordForm,
    PasswordChangeForm,
    ProfileForm,
    TwoFactorDisableForm,
)
from tribu.accounts.services import passwords, profile, two_factor


def render_settings(request, **forms):
    user = request.user
    context = {
        "profile_form": forms.get("profile_form") or ProfileForm(instance=user),
        "password_form": forms.get("password_form") or PasswordChangeForm(user),
        "disable_form": forms.get("disable_form") or TwoFactorDisableForm(),
        "regenerate_form": forms.get("regenerate_form") or ConfirmPasswordForm(),
        "recovery_codes_left": two_factor.remaining_recovery_codes(user),
    }
    status = 400 if any(form.errors for form in forms.values()) else 200
    return render(request, "accounts/settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request):
    if request.method == "GET":
        return render_settings(request)
    form = ProfileForm(request.POST, instance=request.user)
    if not form.is_valid():
        return render_settings(request, profile_form=form)
    profile.update_profile(
        request.user, name=form.cleaned_data["name"], language=form.cleaned_data["language"]
    )
    language = request.user.language or translation.get_language_from_request(request)
    with translation.override(language):
        messages.success(request, _("Your settings have been saved."))
    return profile.remember_language(redirect("accounts:settings"), request.user.language)


@login_required
@require_http_methods(["POST"])
def password_change_view(request):
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return render_settings(request, password_form=form)
    passwords.change_password(request, request.user, form.cleaned_data["new_password1"])
    messages.success(request, _("Your password has been changed."))
    return redirect("accounts:settings")
