"""Cursor pagination for list endpoints: {"items": [...], "next": cursor or null}.

Clients pass `next` back as `?cursor=` until it is null. The cursor is opaque to them;
it is the last id seen, so pages stay stable while rows are added.
"""

from django.utils.translation import gettext as _
from ninja import Field, Schema

from tribu.api.v1.errors import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageQuery(Schema):
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def paginate(queryset, page, serialize=lambda row: row):
    """One page of `queryset` in id order, as {"items", "next"}."""
    rows = queryset.order_by("pk")
    if page.cursor:
        try:
            after = int(page.cursor)
        except ValueError:
            raise ApiError(
                422,
                "invalid",
                _("Some fields are not valid: see “errors” for each field."),
                {"cursor": [_("Use the “next” value of the previous page, unchanged.")]},
            ) from None
        rows = rows.filter(pk__gt=after)
    found = list(rows[: page.limit + 1])
    items = found[: page.limit]
    more = len(found) > page.limit
    return {
        "items": [serialize(row) for row in items],
        "next": str(items[-1].pk) if more and items else None,
    }
