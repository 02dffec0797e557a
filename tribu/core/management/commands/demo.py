from django.conf import settings
from django.core.management import call_command
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
        # The demo must work on a fresh data directory: bring the database up to date first.
        call_command("migrate", verbosity=0, interactive=False)
        login = ensure_demo()
        if login.created:
            self.stdout.write(self.style.SUCCESS(_("Demo account and workspace are ready.")))
        self.stdout.write(
            _("Sign in at: %(url)s") % {"url": settings.TRIBU_BASE_URL + reverse("accounts:login")}
        )
        # Labels are translated alone; the alignment is done here, after the longest label.
        labels = {"email": _("Email:"), "password": _("Password:"), "workspace": _("Workspace:")}
        width = max(len(label) for label in labels.values()) + 2

        def line(key, value):
            self.stdout.write(labels[key].ljust(width) + value)

        line("email", login.email)
        if login.password:
            line("password", login.password)
        elif login.password_changed:
            line(
                "password",
                _(
                    "changed since it was generated, so it is not shown. Sign in with the new "
                    "one, or reset it with: tribu manage changepassword %(email)s"
                )
                % {"email": login.email},
            )
        else:
            line(
                "password",
                _(
                    "unknown, because %(file)s is missing. Reset it with: "
                    "tribu manage changepassword %(email)s"
                )
                % {"file": login_file(), "email": login.email},
            )
        line("workspace", login.workspace_slug)
