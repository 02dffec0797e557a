"""Password change and password reset by email."""

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import ngettext

from tribu.accounts.models import User
from tribu.accounts.services import throttle
from tribu.accounts.services.events import record_security_event


@transaction.atomic
def change_password(request, user, new_password):
    """Change the password of the signed-in user and keep this session signed in (the
    others are signed out, since their session hash no longer matches)."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    update_session_auth_hash(request, user)
    record_security_event(user, "security.password_changed", request=request)


def reset_link(user):
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_confirm", args=[uidb64, token])
    return settings.TRIBU_BASE_URL.rstrip("/") + path


def send_reset_email(email):
    """Mail a reset link when an active account has this address; do nothing otherwise.
    The caller answers the same either way, so the form reveals no account."""
    user = User.objects.filter(email=User.objects.normalize_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return False
    context = {
        "user": user,
        "link": reset_link(user),
        "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        "base_url": settings.TRIBU_BASE_URL,
    }
    # In the language the person chose, else the one they are using right now.
    language = user.language or translation.get_language()
    with translation.override(language):
        subject = render_to_string("accounts/email/password_reset_subject.txt", context)
        body = render_to_string("accounts/email/password_reset_body.txt", context)
    EmailMessage(
        " ".join(subject.split()), body, to=[user.email], headers={"Content-Language": language}
    ).send()
    return True


class ResetRefused(Exception):
    """Too many reset requests from this client IP. The message can be shown as is: the
    IP limit does not depend on the address typed, so it reveals no account."""


def request_reset(request, email):
    """Handle a reset request within the limits of throttle.limit_reset_request.

    Raises ResetRefused when this IP asked too often. When the address was asked for too
    often, nothing is sent and nothing is raised: the caller answers exactly as for a
    request that went through, so the limit reveals no more than the form itself.
    Returns whether an email was queued (sent by the worker, whether or not an account has
    this address, so that response times reveal nothing either)."""
    lock = throttle.limit_reset_request(request, email)
    if lock is None:
        from tribu.accounts.tasks import send_password_reset

        send_password_reset(email, translation.get_language())
        return True
    if lock.scope == throttle.Scope.RESET_IP:
        raise ResetRefused(
            ngettext(
                "Too many password reset requests from your network. "
                "Try again in %(minutes)d minute.",
                "Too many password reset requests from your network. "
                "Try again in %(minutes)d minutes.",
                lock.minutes,
            )
            % {"minutes": lock.minutes}
        )
    return False


def user_for_reset(uidb64, token):
    """The user a reset link belongs to, or None when the link is wrong, expired or
    already used (the token is bound to the password hash, so one use spends it)."""
    try:
        user_id = force_str(urlsafe_base64_decode(uidb64))
        user = User.objects.get(pk=user_id, is_active=True)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None
    if not default_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def reset_password(request, user, new_password):
    user.set_password(new_password)
    user.save(update_fields=["password"])
    # Whoever can read the mailbox may sign in again at once.
    throttle.reset_account(user.email)
    record_security_event(user, "security.password_reset", request=request)
