from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tribu.accounts.forms import PasswordResetRequestForm, SetPasswordForm
from tribu.accounts.services import passwords, sign_in

# The token moves from the emailed URL into the session, then the browser is sent to a
# URL without it: the token does not stay in the address bar or the history.
RESET_SESSION_KEY = "tribu_reset_token"
RESET_URL_MARKER = "set-password"


@require_http_methods(["GET", "POST"])
def request_view(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passwords.request_reset(request, form.cleaned_data["email"])
        except passwords.ResetRefused as refusal:
            form.add_error(None, str(refusal))
            return render(
                request, "accounts/password_reset_request.html", {"form": form}, status=429
            )
        # Same answer whether or not the address has an account, and whether or not the
        # address has reached its limit of reset emails.
        return redirect("accounts:password_reset_sent")
    return render(request, "accounts/password_reset_request.html", {"form": form})


def sent_view(request):
    return render(request, "accounts/password_reset_sent.html")


@require_http_methods(["GET", "POST"])
def confirm_view(request, uidb64, token):
    if token != RESET_URL_MARKER:
        request.session[RESET_SESSION_KEY] = token
        return redirect("accounts:password_reset_confirm", uidb64, RESET_URL_MARKER)
    user = passwords.user_for_reset(uidb64, request.session.get(RESET_SESSION_KEY, ""))
    if user is None:
        return render(request, "accounts/password_reset_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        passwords.reset_password(request, user, form.cleaned_data["new_password1"])
        request.session.pop(RESET_SESSION_KEY, None)
        messages.success(request, _("Your password has been changed."))
        # Reading the mailbox is one factor: with two-factor on, the code is still asked.
        if user.has_two_factor:
            sign_in.start_second_step(request, user)
            return redirect("accounts:login_code")
        sign_in.complete(request, user)
        return redirect("core:home")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})
