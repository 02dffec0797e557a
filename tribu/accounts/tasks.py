from django.utils import translation
from huey.contrib.djhuey import db_task

from tribu.accounts.services.passwords import send_reset_email


@db_task(retries=3, retry_delay=60)
def send_password_reset(email, language):
    """Send the reset email from the worker: the form then answers in the same time whether
    or not an account has this address."""
    with translation.override(language):
        send_reset_email(email)
