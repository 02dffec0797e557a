from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu.core.services.backup import BackupError, create_backup


class Command(BaseCommand):
    help = _(
        "Save the database, the job store, uploaded media and the generated secret files into "
        "one archive, while Tribu keeps running. The archive is sensitive: it holds the "
        "encryption keys."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("the archive to write, e.g. tribu-2025-01-31.tar.gz"))

    def handle(self, *args, file, **options):
        try:
            manifest = create_backup(file)
        except BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(manifest["counts"].get("database", {}).values())
        media = manifest["media_files"]
        self.stdout.write(
            self.style.SUCCESS(
                # Two counts, so each is its own plural phrase in a one-sentence frame.
                _("Backup written to %(file)s: %(rows)s, %(media)s.")
                % {
                    "file": file,
                    "rows": ngettext("%(count)d database row", "%(count)d database rows", rows)
                    % {"count": rows},
                    "media": ngettext("%(count)d media file", "%(count)d media files", media)
                    % {"count": media},
                }
            )
        )
        if manifest["secrets"]:
            self.stdout.write(
                _("It contains the secret files (%(names)s): store it as safely as a password.")
                % {"names": ", ".join(manifest["secrets"])}
            )
        else:
            self.stdout.write(
                _(
                    "Your keys come from the environment, so they are not in the archive: keep "
                    "TRIBU_SECRET_KEY and TRIBU_ENCRYPTION_KEYS safe with it, or encrypted "
                    "fields cannot be read after a restore."
                )
            )
