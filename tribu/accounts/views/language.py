from django.conf import settings
from django.http import HttpResponseRedirect
from django.views.decorators.http import require_POST

from tribu.accounts.services.profile import remember_language
from tribu.accounts.views.session import is_safe_next


@require_POST
def set_language(request):
    """Switch the interface language: saved on the account when signed in, in a cookie
    as well, so the choice survives signing out and the next sign-in."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next")
    response = HttpResponseRedirect(next_url if is_safe_next(request, next_url) else "/")
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        request.user.language = language
        request.user.save(update_fields=["language"])
    return remember_language(response, language)
