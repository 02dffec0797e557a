import zoneinfo

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu.accounts.models import User
from tribu.core.models import Membership, Workspace
from tribu.core.roles import Role
from tribu.core.services.workspaces import WorkspaceError, create_workspace


class Command(BaseCommand):
    help = _("Manage workspaces: create one, or list them.")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser("create", help=_("create a workspace with its owner"))
        create.add_argument("--slug", required=True, help=_("the address, e.g. maison-lumiere"))
        create.add_argument("--name", required=True, help=_("the brand or client name"))
        create.add_argument("--owner", required=True, help=_("email of an existing user"))
        create.add_argument(
            "--timezone", default="Europe/Paris", help=_("e.g. Europe/Paris (the default)")
        )
        create.add_argument(
            "--language",
            default=Workspace.Language.FRENCH,
            choices=Workspace.Language.values,
            help=_("default language of the workspace (fr by default)"),
        )

        actions.add_parser("list", help=_("list every workspace with its owners"))

    def handle(self, *args, action, **options):
        if action == "create":
            self.create(**options)
        else:
            self.list()

    def create(self, *, slug, name, owner, timezone, language, **options):
        slug = slug.strip().lower()
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(
                _(
                    "“%(slug)s” is not a valid address: use letters, numbers, hyphens and "
                    "underscores only."
                )
                % {"slug": slug}
            ) from None
        max_slug = Workspace._meta.get_field("slug").max_length
        if len(slug) > max_slug:
            raise CommandError(
                _("The address is too long: %(max)d characters at most.") % {"max": max_slug}
            )
        name = name.strip()
        max_name = Workspace._meta.get_field("name").max_length
        if not name or len(name) > max_name:
            raise CommandError(_("Give a name of 1 to %(max)d characters.") % {"max": max_name})
        if timezone not in zoneinfo.available_timezones():
            raise CommandError(
                _(
                    "Unknown time zone “%(tz)s”: use a name such as Europe/Paris or "
                    "America/Montreal."
                )
                % {"tz": timezone}
            )
        user = User.objects.filter(email=User.objects.normalize_email(owner)).first()
        if user is None:
            raise CommandError(
                _(
                    "No user has the email %(email)s. Create one first with: tribu createuser "
                    "--email %(email)s"
                )
                % {"email": owner}
            )
        try:
            workspace = create_workspace(
                slug=slug, name=name, owner=user, timezone=timezone, language=language
            )
        except WorkspaceError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                _("Created the workspace “%(name)s” at /%(slug)s/, owned by %(email)s.")
                % {"name": workspace.name, "slug": workspace.slug, "email": user.email}
            )
        )

    def list(self):
        workspaces = Workspace.objects.annotate(member_count=Count("memberships")).order_by("slug")
        if not workspaces:
            self.stdout.write(_("No workspace yet. Create one with: tribu workspace create"))
            return
        owners = {}
        for membership in Membership.objects.filter(role=Role.OWNER).select_related("user"):
            owners.setdefault(membership.workspace_id, []).append(membership.user.email)
        for workspace in workspaces:
            owner_emails = owners.get(workspace.id, [])
            count = workspace.member_count
            self.stdout.write(
                # Two counts, so each is its own plural phrase.
                _("%(slug)s  “%(name)s”  %(tz)s, %(language)s, %(members)s, %(owners)s")
                % {
                    "slug": workspace.slug,
                    "name": workspace.name,
                    "tz": workspace.timezone,
                    "language": workspace.language,
                    "members": ngettext("%(count)d member", "%(count)d members", count)
                    % {"count": count},
                    "owners": ngettext("owner: %(emails)s", "owners: %(emails)s", len(owner_emails))
                    % {"emails": ", ".join(owner_emails) or "-"},
                }
            )
