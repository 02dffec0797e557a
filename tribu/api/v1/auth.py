"""`Authorization: Bearer <token>` is the API's only way in: no session, hence no CSRF."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from tribu.api.services.tokens import TokenAuthError, authenticate, how_to_get_a_token


class TokenBearer(HttpBearer):
    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _space, raw_token = header.partition(" ")
        if not header:
            raise TokenAuthError(
                _("This request needs an API token. %(how)s") % {"how": how_to_get_a_token()}
            )
        if scheme.lower() != "bearer" or not raw_token.strip():
            raise TokenAuthError(
                _("Send the API token as “Authorization: Bearer <token>”. %(how)s")
                % {"how": how_to_get_a_token()}
            )
        return self.authenticate(request, raw_token.strip())

    def authenticate(self, request, token):
        access = authenticate(token)
        # Whoever holds the token speaks for its user, whatever session cookie came along.
        request.user = access.user
        if access.user.language:
            translation.activate(access.user.language)
            request.LANGUAGE_CODE = translation.get_language()
        timezone.activate(access.workspace.tzinfo)
        return access
