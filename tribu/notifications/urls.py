from django.urls import path

from tribu.notifications.views import centre, preferences, webhooks

app_name = "notifications"

W = "w/<slug:ws>/notifications/"

urlpatterns = [
    path(W, centre.centre, name="centre"),
    path(f"{W}<int:notification_id>/open/", centre.open_notification, name="open"),
    path(f"{W}read-all/", centre.read_all, name="read_all"),
    path(f"{W}preferences/", preferences.preferences, name="preferences"),
    path(f"{W}preferences/test/", preferences.send_test, name="send_test"),
    path(f"{W}webhooks/", webhooks.webhook_list, name="webhooks"),
    path(f"{W}webhooks/add/", webhooks.webhook_add, name="webhook_add"),
    path(f"{W}webhooks/<int:webhook_id>/", webhooks.webhook_detail, name="webhook"),
    path(f"{W}webhooks/<int:webhook_id>/toggle/", webhooks.webhook_toggle, name="webhook_toggle"),
    path(f"{W}webhooks/<int:webhook_id>/test/", webhooks.webhook_test, name="webhook_test"),
    path(f"{W}webhooks/<int:webhook_id>/secret/", webhooks.webhook_secret, name="webhook_secret"),
    path(f"{W}webhooks/<int:webhook_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
]
