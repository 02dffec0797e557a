from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils.translation import gettext as _

from tribu.core.services.demo import ensure_demo, login_file


class Command(BaseCommand):
    help = _(
        "Create the demo user and workspace when they are missing, then print the demo login. "
        "Running it again changes nothing."
    )

    def handle(self, *args, **options):
        login = ensure_demo()
        if login.created:
            self.stdout.write(self.style.SUCCESS(_("Demo account and workspace are ready.")))
        self.stdout.write(
            _("Sign in at: %(url)s") % {"url": settings.TRIBU_BASE_URL + reverse("accounts:login")}
        )
        self.stdout.write(_("Email:      %(email)s") % {"email": login.email})
        if login.password:
            self.stdout.write(_("Password:   %(password)s") % {"password": login.password})
        elif login.password_changed:
            self.stdout.write(
                _(
                    "Password:   changed since it was generated, so it is not shown. Sign in "
                    "with the new one, or reset it with: tribu manage changepassword %(email)s"
                )
                % {"email": login.email}
            )
        else:
            self.stdout.write(
                _(
                    "Password:   unknown, because %(file)s is missing. Reset it with: "
                    "tribu manage changepassword %(email)s"
                )
                % {"file": login_file(), "email": login.email}
            )
        self.stdout.write(_("Workspace:  %(slug)s") % {"slug": login.workspace_slug})
