from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tribu.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib import admin

        from tribu.accounts.services.throttle import forget_stale
        from tribu.accounts.views.session import admin_login_view
        from tribu.core import tick

        if forget_stale not in tick.HOUSEKEEPING:
            tick.HOUSEKEEPING.append(forget_stale)

        # One way in: operators sign in through Tribu's form, with its throttling and
        # two-factor step, not through the admin's own unthrottled form.
        admin.site.login = admin_login_view
