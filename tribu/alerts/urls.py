from django.urls import path

from tribu.alerts.views import alerts, rules

app_name = "alerts"

W = "w/<slug:ws>/alerts/"

urlpatterns = [
    path(W, alerts.alert_list, name="list"),
    path(f"{W}<int:alert_id>/", alerts.alert_detail, name="detail"),
    path(f"{W}<int:alert_id>/acknowledge/", alerts.alert_acknowledge, name="acknowledge"),
    path(f"{W}<int:alert_id>/close/", alerts.alert_close, name="close"),
    path(f"{W}<int:alert_id>/comments/", alerts.alert_comment, name="comment"),
    path(f"{W}topics/<int:topic_id>/", rules.topic_settings, name="topic_settings"),
]
