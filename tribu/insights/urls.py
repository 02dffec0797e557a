from django.urls import path

from tribu.insights.views import authors, dashboard, trends

app_name = "insights"

W = "w/<slug:ws>/insights/"

urlpatterns = [
    path(W, dashboard.dashboard, name="dashboard"),
    path(f"{W}topics/<int:topic_id>/", dashboard.topic_dashboard, name="topic_dashboard"),
    path(f"{W}trends/", trends.trends, name="trends"),
    path(f"{W}authors/", authors.authors, name="authors"),
    path(f"{W}authors/<int:author_id>/", authors.author_detail, name="author"),
    path(f"{W}authors/<int:author_id>/watch/", authors.author_watch, name="author_watch"),
    path(f"{W}watch-list/", authors.watchlist, name="watchlist"),
]
