"""Notification services. Other apps call `notify` (see docs/notifications.md)."""

from tribu.notifications.services.notify import notify

__all__ = ["notify"]
