import zoneinfo
from datetime import datetime
from typing import Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import field_validator

from tribu.api.v1.errors import ApiError
from tribu.api.v1.permissions import require
from tribu.core.forms import WorkspaceSettingsForm
from tribu.core.models import Workspace
from tribu.core.services.workspace_settings import update_workspace

router = Router(tags=["workspaces"])


class WorkspaceOut(Schema):
    slug: str
    name: str
    timezone: str
    language: str
    created_at: datetime


class WorkspacePage(Schema):
    items: list[WorkspaceOut]
    next: str | None


class WorkspacePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    timezone: str | None = None
    language: Literal[tuple(Workspace.Language.values)] | None = None

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value):
        if value is not None and value not in zoneinfo.available_timezones():
            raise ValueError(
                _("“%(value)s” is not a time zone. Use an IANA name such as Europe/Paris.")
                % {"value": value}
            )
        return value


def own_workspace_or_404(request, slug):
    """A token reaches exactly one workspace; any other slug does not exist for it."""
    workspace = request.auth.workspace
    if slug != workspace.slug:
        raise Http404
    return workspace


@router.get("/workspaces", response=WorkspacePage, summary="The workspaces this token reaches")
@require("workspace.view")
def list_workspaces(request):
    return {"items": [request.auth.workspace], "next": None}


@router.get("/workspaces/{slug}", response=WorkspaceOut)
@require("workspace.view")
def get_workspace(request, slug: str):
    return own_workspace_or_404(request, slug)


@router.patch("/workspaces/{slug}", response=WorkspaceOut)
@require("workspace.edit")
def update_workspace_settings(request, slug: str, payload: WorkspacePatch):
    workspace = own_workspace_or_404(request, slug)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    # The settings form is the one validation of workspace settings, shared with the web page.
    data = {
        "name": workspace.name,
        "timezone": workspace.timezone,
        "language": workspace.language,
        "audit_digest": workspace.audit_digest,
        "mention_languages": list(workspace.mention_language_codes),
        **changes,
    }
    form = WorkspaceSettingsForm(data, instance=workspace)
    if not form.is_valid():
        raise ApiError(
            422,
            "invalid",
            _("Some fields are not valid: see “errors” for each field."),
            {
                field: [str(message) for message in messages]
                for field, messages in form.errors.items()
            },
        )
    return update_workspace(form, request=request)
