from django.contrib import auth
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tribu.accounts.forms import LoginForm


def safe_next(request, fallback="core:home"):
    next_url = request.POST.get("next") or request.GET.get("next")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return fallback


@require_http_methods(["GET", "POST"])
def login_view(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = auth.authenticate(
            request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
        )
        if user is not None:
            auth.login(request, user)
            return redirect(safe_next(request))
        form.add_error(None, _("Email address or password is incorrect."))
    return render(request, "accounts/login.html", {"form": form, "next": safe_next(request, "")})


@require_POST
def logout_view(request):
    auth.logout(request)
    return redirect("accounts:login")
