from datetime import datetime

from ninja import Router, Schema

from tribu.api.v1.permissions import require

router = Router(tags=["me"])


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    workspace: str
    role: str
    effective_role: str
    created_at: datetime
    last_used_at: datetime | None


class MeOut(Schema):
    id: int
    email: str
    name: str
    language: str | None
    two_factor_enabled: bool
    token: TokenOut


@router.get("/me", response=MeOut, summary="The token's user and the token itself")
@require("workspace.view")
def me(request):
    access = request.auth
    user, token = access.user, access.token
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.name,
        "language": user.language or None,
        "two_factor_enabled": user.has_two_factor,
        "token": {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "workspace": access.workspace.slug,
            "role": token.role,
            "effective_role": access.role,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
        },
    }
