import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tribu.accounts.models import User


class Command(BaseCommand):
    help = _("Create a user who signs in with an email address.")

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help=_("the address the user signs in with"))
        parser.add_argument(
            "--password", help=_("the password; without it, one is generated and printed")
        )
        parser.add_argument("--name", default="", help=_("the name shown to teammates"))
        parser.add_argument(
            "--operator",
            action="store_true",
            help=_("let the user sign in to the operators' admin site (/admin/)"),
        )

    def handle(self, *args, email, password, name, operator, **options):
        email = User.objects.normalize_email(email)
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(
                _("“%(email)s” is not a valid email address. Check it, e.g. name@example.com.")
                % {"email": email}
            ) from None
        if User.objects.filter(email=email).exists():
            raise CommandError(
                _("A user with the email %(email)s already exists: choose another address.")
                % {"email": email}
            )
        generated = password is None
        if generated:
            password = secrets.token_urlsafe(15)
        candidate = User(email=email, name=name)
        try:
            validate_password(password, user=candidate)
        except ValidationError as error:
            raise CommandError(
                _(
                    "This password is refused: %(reasons)s Choose another one, or leave out "
                    "--password to get a generated one."
                )
                % {"reasons": " ".join(error.messages)}
            ) from None
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email, password, name=name, is_staff=operator, is_superuser=operator
                )
        except IntegrityError:
            # Someone created the same address between the check above and now.
            raise CommandError(
                _("A user with the email %(email)s already exists: choose another address.")
                % {"email": email}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(_("Created the user %(email)s.") % {"email": user.email})
        )
        if operator:
            self.stdout.write(_("This user is an operator and can use /admin/."))
        if generated:
            self.stdout.write(_("Password: %(password)s") % {"password": password})
            self.stdout.write(_("Keep it now: it is not stored anywhere in clear text."))
