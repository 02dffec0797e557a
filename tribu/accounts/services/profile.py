"""The account's own settings: name and interface language."""

from django.conf import settings


def update_profile(user, *, name, language):
    user.name = name
    user.language = language
    user.save(update_fields=["name", "language"])


def remember_language(response, language):
    """Keep the chosen language in a cookie too, so it still applies after signing out."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            httponly=True,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME, samesite=settings.LANGUAGE_COOKIE_SAMESITE
        )
    return response
