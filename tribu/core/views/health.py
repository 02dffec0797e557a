from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from tribu.core.models import WorkerHeartbeat


@never_cache
def healthz(request):
    """200 when the database answers and a worker beat within TRIBU_WORKER_STALE_SECONDS."""
    body = {"status": "ok", "database": "ok", "worker": "ok", "version": settings.VERSION}
    reasons = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        latest = (
            WorkerHeartbeat.objects.order_by("-last_seen_at")
            .values_list("last_seen_at", flat=True)
            .first()
        )
    except DatabaseError as error:
        body["database"] = "error"
        body["worker"] = "unknown"
        # The class name only: the message may contain connection details.
        reasons.append(
            f"database error ({error.__class__.__name__}): check that the database is up, "
            "DATABASE_URL is right and `tribu manage migrate` has run"
        )
    else:
        stale_after = timedelta(seconds=settings.TRIBU_WORKER_STALE_SECONDS)
        if latest is None:
            body["worker"] = "missing"
            reasons.append("no worker has ever reported: start `tribu worker` or `tribu serve`")
        elif timezone.now() - latest > stale_after:
            age = int((timezone.now() - latest).total_seconds())
            body["worker"] = "stale"
            reasons.append(f"last worker heartbeat {age} s ago (limit {stale_after.seconds} s)")
    if reasons:
        body["status"] = "error"
        body["reason"] = "; ".join(reasons)
        return JsonResponse(body, status=503)
    return JsonResponse(body)
