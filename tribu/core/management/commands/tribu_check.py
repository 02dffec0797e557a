from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tribu.core.services.checks import ERROR, OK, WARNING, run_all


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
        summary = _("%(errors)d error(s), %(warnings)d warning(s).") % {
            "errors": errors,
            "warnings": warnings,
        }
        if errors:
            raise CommandError(summary, returncode=1)
        self.stdout.write(summary)
