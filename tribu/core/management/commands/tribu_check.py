import os
from contextlib import nullcontext

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu import config
from tribu.core.services.checks import ERROR, OK, WARNING, run_all


def operator_language():
    """The operator's language from the locale variables, as tribu/config.py reads it, so the
    whole report speaks it; None when Tribu has no translation for it."""
    available = {code for code, _name in settings.LANGUAGES}
    return next((code for code in config.operator_languages(os.environ) if code in available), None)


class Command(BaseCommand):
    help = _(
        "Check the configuration, data directory, database, keys, email and worker, and "
        "explain every problem found. Exits with 1 when there is an error."
    )
    # The report includes Django's system checks itself, with deployment checks under HTTPS.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--email",
            action="store_true",
            help=_("also connect to the SMTP server to test the email settings"),
        )

    def handle(self, *args, email, **options):
        language = operator_language()
        with translation.override(language) if language else nullcontext():
            self.report(email)

    def report(self, email):
        findings = run_all(connect_email=email)
        styles = {OK: self.style.SUCCESS, WARNING: self.style.WARNING, ERROR: self.style.ERROR}
        for finding in findings:
            self.stdout.write(
                styles[finding.level](f"{finding.level:<8}") + f"{finding.topic}: {finding.message}"
            )
            if finding.fix and finding.level != OK:
                self.stdout.write("        " + _("Fix: %(fix)s") % {"fix": finding.fix})
        errors = sum(finding.level == ERROR for finding in findings)
        warnings = sum(finding.level == WARNING for finding in findings)
        # Two counts, so each is its own plural phrase.
        summary = _("%(errors)s, %(warnings)s.") % {
            "errors": ngettext("%(count)d error", "%(count)d errors", errors) % {"count": errors},
            "warnings": ngettext("%(count)d warning", "%(count)d warnings", warnings)
            % {"count": warnings},
        }
        if errors:
            raise CommandError(summary, returncode=1)
        self.stdout.write(summary)
