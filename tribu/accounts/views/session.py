from urllib.parse import urlencode

from django.contrib import auth, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tribu.accounts.forms import LoginForm, SecondFactorForm
from tribu.accounts.services import sign_in


def is_safe_next(request, url):
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next(request, fallback="core:home"):
    """The ?next= target when it stays on this site; never an open redirect."""
    next_url = request.POST.get("next") or request.GET.get("next")
    return next_url if is_safe_next(request, next_url) else fallback


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect(safe_next(request))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accepted = sign_in.check_password(
                request, form.cleaned_data["email"], form.cleaned_data["password"]
            )
        except sign_in.SignInRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            if accepted.needs_second_factor:
                sign_in.start_second_step(request, accepted.user, safe_next(request, ""))
                return redirect("accounts:login_code")
            sign_in.complete(request, accepted.user)
            return redirect(safe_next(request))
    return render(request, "accounts/login.html", {"form": form, "next": safe_next(request, "")})


@require_http_methods(["GET", "POST"])
def login_code_view(request):
    """Second sign-in step, for accounts with two-factor authentication."""
    user = sign_in.pending_user(request)
    if user is None:
        if request.method == "POST":
            messages.error(
                request, _("Your sign-in took too long to complete. Enter your password again.")
            )
        return redirect("accounts:login")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sign_in.check_second_factor(request, user, form.cleaned_data["code"])
        except sign_in.SignInRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            next_url = sign_in.pending_next(request)
            sign_in.complete(request, user)
            return redirect(next_url if is_safe_next(request, next_url) else "core:home")
    return render(request, "accounts/login_code.html", {"form": form})


@require_POST
def logout_view(request):
    auth.logout(request)
    return redirect("accounts:login")


def admin_login_view(request, extra_context=None):
    """Stands in for the Django admin's own sign-in form (see AccountsConfig.ready), which
    would skip throttling and two-factor authentication."""
    if request.user.is_authenticated:
        # Signed in but not an operator: sending them to sign in again would loop.
        raise PermissionDenied
    next_url = request.GET.get("next")
    query = urlencode({"next": next_url if is_safe_next(request, next_url) else "/admin/"})
    return redirect(f"{reverse('accounts:login')}?{query}")
