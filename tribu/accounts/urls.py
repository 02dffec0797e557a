from django.urls import path

from tribu.accounts.views import language, session

app_name = "accounts"

urlpatterns = [
    path("login/", session.login_view, name="login"),
    path("logout/", session.logout_view, name="logout"),
    path("language/", language.set_language, name="set_language"),
]
