"""What can be notified: a registry of kinds, each with its texts and default recipients.

A kind is registered once, at import time, by the app that notifies it:

    register_kind("alert.opened", title=lambda p: ..., body=lambda p: ...,
                  permission="workspace.view", label=_("Bad-buzz alerts"))

Texts are functions of the stored params, called under `translation.override(language)`
when a notification is shown or sent, so each reader gets their own language.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribu.core.roles import PERMISSIONS


@dataclass(frozen=True)
class Kind:
    name: str
    title: object  # callable(params) -> str
    body: object  # callable(params) -> str
    permission: str
    label: object  # lazy str


KINDS = {}


def register_kind(name, *, title, body, permission="workspace.view", label=None):
    """Register (or replace, on module reload) a notification kind."""
    if permission not in PERMISSIONS:
        raise KeyError(f"Unknown permission {permission!r} for notification kind {name!r}")
    if not name or name != name.strip() or len(name) > 100:
        raise ValueError(f"Invalid notification kind name {name!r}")
    KINDS[name] = Kind(name, title, body, permission, label or name)
    return KINDS[name]


def get_kind(name):
    return KINDS.get(name)


def choices():
    """(name, label) of every kind, for preferences and webhook subscriptions."""
    return sorted(((kind.name, str(kind.label)) for kind in KINDS.values()), key=lambda c: c[1])


def render(name, params):
    """(title, body) of a notification in the active language. A kind that is no longer
    registered (an app removed) still shows something readable."""
    kind = KINDS.get(name)
    params = params or {}
    if kind is None:
        return name, ""
    try:
        return str(kind.title(params)), str(kind.body(params))
    except Exception:  # noqa: BLE001 - old params must never break the notification centre
        return str(kind.label), ""


register_kind(
    "notifications.test",
    title=lambda params: _("Test notification from Tribu"),
    body=lambda params: (
        _("This is a test sent by %(actor)s. If you read it, notifications reach you.")
        % {"actor": params.get("actor") or "Tribu"}
    ),
    permission="workspace.view",
    label=gettext_lazy("Test notifications"),
)
