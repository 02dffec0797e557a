"""Channel pages: list, connect (Mastodon OAuth or token, Bluesky app password), manage."""

from tribu.channels.views import channels

app_name = "channels"

urlpatterns = [*channels.urlpatterns]
