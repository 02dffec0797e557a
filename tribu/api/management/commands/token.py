"""`tribu manage token create|list|revoke`: API tokens for scripts and operators."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tribu.accounts.models import User
from tribu.api.models import ApiToken
from tribu.api.services import tokens as token_service
from tribu.core.models import Workspace
from tribu.core.roles import Role


class Command(BaseCommand):
    help = "Create, list and revoke personal API tokens."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser(
            "create",
            help="Create a token and print it on stdout (and nothing else, for scripts).",
        )
        create.add_argument("--user", required=True, metavar="EMAIL", help="The token's owner.")
        create.add_argument("--workspace", required=True, metavar="SLUG")
        create.add_argument(
            "--role",
            choices=Role.values,
            help="The token's role; at most the user's role, which is the default.",
        )
        create.add_argument("--name", default="", help="A label, such as the script's name.")

        listing = actions.add_parser("list", help="List a workspace's active tokens.")
        listing.add_argument("--workspace", required=True, metavar="SLUG")
        listing.add_argument("--all", action="store_true", help="Include revoked tokens.")

        revoke = actions.add_parser("revoke", help="Revoke a token by its id (see `list`).")
        revoke.add_argument("id", type=int, metavar="ID")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def workspace(self, slug):
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(
                _(
                    "No workspace has the address “%(slug)s”. Check it: it is the part after "
                    "/w/ in the workspace's URL."
                )
                % {"slug": slug}
            )
        return workspace

    def handle_create(self, *, user, workspace, role, name, **_options):
        workspace = self.workspace(workspace)
        owner = User.objects.filter(email=User.objects.normalize_email(user)).first()
        if owner is None:
            raise CommandError(
                _("No account uses %(email)s. Create it first with `tribu createuser`.")
                % {"email": user}
            )
        membership = token_service.active_membership(workspace, owner)
        if membership is None:
            raise CommandError(
                _("%(email)s is not an active member of “%(slug)s”: invite them first.")
                % {"email": owner.email, "slug": workspace.slug}
            )
        try:
            token, raw_token = token_service.create_token(
                workspace,
                owner,
                name=name or _("Command line"),
                role=role or membership.role,
            )
        except token_service.TokenError as error:
            raise CommandError(str(error)) from None
        # Only the token goes to stdout, so that `TOKEN=$(tribu token create …)` works.
        self.stdout.write(raw_token)
        self.stderr.write(
            _(
                "Token %(id)s “%(name)s” created for %(email)s in “%(slug)s” with the role "
                "%(role)s. Keep it secret: it is not shown again. Revoke it with "
                "`tribu token revoke %(id)s`."
            )
            % {
                "id": token.pk,
                "name": token.name,
                "email": owner.email,
                "slug": workspace.slug,
                "role": token.role,
            }
        )

    def handle_list(self, *, workspace, all, **_options):
        workspace = self.workspace(workspace)
        tokens = ApiToken.objects.filter(workspace=workspace).select_related("user")
        if not all:
            tokens = tokens.filter(revoked_at__isnull=True)
        rows = [("ID", "PREFIX", "ROLE", "USER", "NAME", "CREATED", "LAST USED", "STATE")]
        for token in tokens.order_by("pk"):
            rows.append(
                (
                    str(token.pk),
                    token.prefix,
                    token.role,
                    token.user.email,
                    token.name,
                    token.created_at.strftime("%Y-%m-%d %H:%M"),
                    token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "-",
                    "revoked" if token.revoked_at else "active",
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )

    def handle_revoke(self, *, id, **_options):
        token = ApiToken.objects.select_related("workspace", "user").filter(pk=id).first()
        if token is None:
            raise CommandError(
                _("No token has the id %(id)s. `tribu token list --workspace SLUG` shows them.")
                % {"id": id}
            )
        try:
            token_service.revoke_token(token, actor=None)
        except token_service.TokenError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _("Token %(id)s “%(name)s” of %(email)s revoked.")
            % {"id": token.pk, "name": token.name, "email": token.user.email}
        )
