from django.urls import path

from tribu.accounts.views import account, language, password_reset, session, two_factor

app_name = "accounts"

urlpatterns = [
    path("login/", session.login_view, name="login"),
    path("login/code/", session.login_code_view, name="login_code"),
    path("logout/", session.logout_view, name="logout"),
    path("language/", language.set_language, name="set_language"),
    path("password-reset/", password_reset.request_view, name="password_reset"),
    path("password-reset/sent/", password_reset.sent_view, name="password_reset_sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        password_reset.confirm_view,
        name="password_reset_confirm",
    ),
    path("settings/", account.settings_view, name="settings"),
    path("settings/password/", account.password_change_view, name="password_change"),
    path("settings/two-factor/", two_factor.setup_view, name="two_factor_setup"),
    path("settings/two-factor/disable/", two_factor.disable_view, name="two_factor_disable"),
    path(
        "settings/two-factor/recovery-codes/",
        two_factor.regenerate_view,
        name="recovery_codes_regenerate",
    ),
]
