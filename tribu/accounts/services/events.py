"""Security events about a person land in the audit log of every workspace they belong to,
so that each workspace's owners and admins see what happens to their members' accounts."""

from tribu.core.services import audit
from tribu.core.services.workspaces import workspaces_for


def record_security_event(user, action, *, request=None, **data):
    for workspace in workspaces_for(user):
        audit.record(workspace, action, actor=user, request=request, target=user.email, **data)
