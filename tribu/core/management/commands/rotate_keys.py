from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu.core.services.keys import (
    KeyRotationError,
    generate_and_install_key,
    keys_file,
    rotate_all,
)


class Command(BaseCommand):
    help = _(
        "Re-encrypt every stored secret with the first key of TRIBU_ENCRYPTION_KEYS. With "
        "--generate, first add a new key to the key file in the data directory."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate",
            action="store_true",
            help=_("generate a new key and put it first in the data directory's key file"),
        )
        parser.add_argument("--batch-size", type=int, default=500, help=_("rows per transaction"))

    def handle(self, *args, generate, batch_size, **options):
        if generate:
            try:
                keys = generate_and_install_key()
            except KeyRotationError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(
                ngettext(
                    "Added a new key to %(file)s (%(count)d key now).",
                    "Added a new key to %(file)s (%(count)d keys now).",
                    len(keys),
                )
                % {"file": keys_file(), "count": len(keys)}
            )
        reports = rotate_all(batch_size=batch_size)
        unreadable = 0
        for report in reports:
            self.stdout.write(
                ngettext(
                    "%(field)s: %(count)d value re-encrypted.",
                    "%(field)s: %(count)d values re-encrypted.",
                    report.rotated,
                )
                % {"field": report.label, "count": report.rotated}
            )
            if report.unreadable:
                unreadable += report.unreadable
                self.stderr.write(
                    ngettext(
                        "%(field)s: %(count)d value cannot be decrypted with any key (id "
                        "%(ids)s) and was left as it is.",
                        "%(field)s: %(count)d values cannot be decrypted with any key (ids "
                        "%(ids)s) and were left as they are.",
                        report.unreadable,
                    )
                    % {
                        "field": report.label,
                        "count": report.unreadable,
                        "ids": ", ".join(str(pk) for pk in report.unreadable_ids[:20]),
                    }
                )
        if unreadable:
            raise CommandError(
                _(
                    "Some secrets are unreadable: put back the key that encrypted them (at the "
                    "end of the list) and run this command again. Keep the old keys until then."
                )
            )
        if generate:
            self.stdout.write(
                _(
                    "Restart every Tribu process now so that they use the new key. Once they "
                    "all run with it, older keys may be removed from the end of %(file)s."
                )
                % {"file": keys_file()}
            )
        else:
            self.stdout.write(
                _("Done. Keys after the first one may now be removed, then restart Tribu.")
            )
