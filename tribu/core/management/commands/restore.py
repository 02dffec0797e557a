from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu import __version__
from tribu.core.services.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = _(
        "Restore an archive made by `tribu backup`. Stop Tribu first. Refuses to overwrite a "
        "database that has data unless --force is given."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("the archive made by tribu backup"))
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("replace the current database even though it has data"),
        )

    def handle(self, *args, file, force, **options):
        try:
            manifest = restore_backup(file, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(manifest["counts"].get("database", {}).values())
        media = manifest["restored_media_files"]
        self.stdout.write(
            self.style.SUCCESS(
                # Two counts, so each is its own plural phrase in a one-sentence frame.
                _("Restored the backup of %(date)s: %(rows)s, %(media)s.")
                % {
                    "date": manifest["created_at"],
                    "rows": ngettext("%(count)d database row", "%(count)d database rows", rows)
                    % {"count": rows},
                    "media": ngettext("%(count)d media file", "%(count)d media files", media)
                    % {"count": media},
                }
            )
        )
        if not manifest["restored_secrets"]:
            self.stdout.write(
                _(
                    "The archive holds no secret files: TRIBU_ENCRYPTION_KEYS must contain the "
                    "keys in use when the backup was made."
                )
            )
        if manifest["tribu_version"] != __version__:
            self.stdout.write(
                _("The backup comes from Tribu %(version)s: run `tribu manage migrate` now.")
                % {"version": manifest["tribu_version"]}
            )
        self.stdout.write(_("Start Tribu again; `tribu check` verifies the result."))
