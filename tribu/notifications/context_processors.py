from django.utils.functional import SimpleLazyObject

from tribu.notifications.models import Notification


def unread(request):
    """The header badge: the user's unread notifications in the current workspace. One
    indexed COUNT, run only if a template reads it."""
    workspace = getattr(request, "workspace", None)
    user = getattr(request, "user", None)
    if workspace is None or user is None or not user.is_authenticated:
        return {}

    def count():
        return Notification.objects.filter(
            user=user, workspace=workspace, read_at__isnull=True
        ).count()

    return {"notifications_unread": SimpleLazyObject(count)}
