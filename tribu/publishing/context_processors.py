from django.utils.functional import SimpleLazyObject

from tribu.publishing.models import PublishingSettings


def pause(request):
    """The crisis banner: the workspace's publishing settings while publishing is paused,
    else None. One primary-key query, run only if a template reads it."""
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return {}

    def paused():
        return (
            PublishingSettings.objects.select_related("paused_by")
            .filter(workspace=workspace, paused_at__isnull=False)
            .first()
        )

    return {"publishing_paused": SimpleLazyObject(paused)}
