"""Who may do what in a workspace: the one role matrix, enforced by views and API alike.

docs/roles.md shows the same table; tests/test_roles.py keeps the two in step.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    EDITOR = "editor", _("Editor")
    APPROVER = "approver", _("Approver")
    CONTRIBUTOR = "contributor", _("Contributor")
    VIEWER = "viewer", _("Viewer")


ROLE_ORDER = [Role.OWNER, Role.ADMIN, Role.EDITOR, Role.APPROVER, Role.CONTRIBUTOR, Role.VIEWER]

ROLE_DESCRIPTIONS = {
    Role.OWNER: _("Everything, including deleting the workspace and managing owners."),
    Role.ADMIN: _("Manages settings, members, tokens and the audit log; writes and approves."),
    Role.EDITOR: _("Writes, schedules and publishes content."),
    Role.APPROVER: _("Reads everything and approves or rejects content."),
    Role.CONTRIBUTOR: _("Writes drafts that others schedule."),
    Role.VIEWER: _("Reads everything, changes nothing."),
}

# permission: (description, whether each role holds it, in ROLE_ORDER)
Y, n = True, False
MATRIX = {
    #                     description                                     own adm edi apr con vie
    "workspace.view":   (_("See the workspace and its content"),          (Y,  Y,  Y,  Y,  Y,  Y)),
    "workspace.edit":   (_("Change workspace settings"),                  (Y,  Y,  n,  n,  n,  n)),
    "workspace.delete": (_("Delete the workspace"),                       (Y,  n,  n,  n,  n,  n)),
    "members.view":     (_("See members and invitations"),                (Y,  Y,  Y,  Y,  Y,  Y)),
    "members.invite":   (_("Invite members"),                             (Y,  Y,  n,  n,  n,  n)),
    "members.manage":   (_("Change roles and remove members"),            (Y,  Y,  n,  n,  n,  n)),
    "owners.manage":    (_("Grant, change or remove the owner role"),     (Y,  n,  n,  n,  n,  n)),
    "audit.view":       (_("Read the audit log"),                         (Y,  Y,  n,  n,  n,  n)),
    "tokens.manage":    (_("Create and revoke one's own API tokens"),     (Y,  Y,  Y,  Y,  Y,  Y)),
    "content.draft":    (_("Write drafts"),                               (Y,  Y,  Y,  n,  Y,  n)),
    "content.schedule": (_("Schedule and publish"),                       (Y,  Y,  Y,  n,  n,  n)),
    "content.approve":  (_("Approve or reject content"),                  (Y,  Y,  n,  Y,  n,  n)),
    "channels.manage":  (_("Connect, reconnect and remove channels"),     (Y,  Y,  Y,  n,  n,  n)),
    "publishing.pause": (_("Pause and resume all publishing (crisis)"),   (Y,  Y,  Y,  n,  n,  n)),
    "listening.manage": (_("Manage listening sources and topics"),        (Y,  Y,  Y,  n,  n,  n)),
    "mentions.triage":  (_("Mark mentions read, starred or hidden"),      (Y,  Y,  Y,  Y,  Y,  n)),
    "mentions.correct": (_("Correct a mention's sentiment"),              (Y,  Y,  Y,  Y,  Y,  n)),
    "authors.watch":    (_("Add authors to the watch list"),              (Y,  Y,  Y,  Y,  Y,  n)),
    "alerts.handle":    (_("Acknowledge, comment on and close alerts"),   (Y,  Y,  Y,  Y,  Y,  n)),
}  # fmt: skip
del Y, n

PERMISSIONS = {
    permission: {role for role, allowed in zip(ROLE_ORDER, row, strict=True) if allowed}
    for permission, (_description, row) in MATRIX.items()
}


def has_permission(role, permission):
    if permission not in PERMISSIONS:
        raise KeyError(f"Unknown permission {permission!r}: add it to MATRIX in core/roles.py")
    return role in PERMISSIONS[permission]


def role_rank(role):
    """Lower is stronger: owner is 0."""
    return ROLE_ORDER.index(role)


def weakest(*roles):
    return max(roles, key=role_rank)
