from django.urls import path

from tribu.api.views import tokens

app_name = "api"

urlpatterns = [
    path("w/<slug:ws>/tokens/", tokens.token_list, name="tokens"),
    path("w/<slug:ws>/tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token_revoke"),
]
