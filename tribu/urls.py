from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve as serve_media

from tribu.core.views import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("tribu.accounts.urls")),
    path("api/v1/", include("tribu.api.v1.urls")),
    path("", include("tribu.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("tribu.listening.urls")),
    path("", include("tribu.notifications.urls")),
    path("", include("tribu.insights.urls")),
    path("", include("tribu.alerts.urls")),
    path("", include("tribu.channels.urls")),
    path("", include("tribu.publishing.urls")),
    path("", include("tribu.core.urls")),
]

# Uploaded media (workspace logos) are served by Django itself on the embedded install;
# a reverse proxy may serve MEDIA_ROOT directly instead.
urlpatterns += [
    path("media/<path:path>", serve_media, {"document_root": settings.MEDIA_ROOT}),
]
