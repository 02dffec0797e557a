"""Publishing pages. Each view module declares its own `urlpatterns`; this file joins them."""

from tribu.publishing.views import (
    calendar,
    client,
    compose,
    csv_import,
    deliveries,
    links,
    posts,
    rituals,
    settings,
)

app_name = "publishing"

urlpatterns = [
    *calendar.urlpatterns,
    *compose.urlpatterns,
    *posts.urlpatterns,
    *deliveries.urlpatterns,
    *rituals.urlpatterns,
    *settings.urlpatterns,
    *client.urlpatterns,
    *links.urlpatterns,
    *csv_import.urlpatterns,
]
