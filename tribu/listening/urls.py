from django.urls import path

from tribu.listening.views import query_help, sentiment, sources, stream, topics

app_name = "listening"

W = "w/<slug:ws>/listening/"

urlpatterns = [
    # Stream and mentions
    path(W, stream.stream, name="stream"),
    path(f"{W}mentions.csv", stream.stream_csv, name="stream_csv"),
    path(f"{W}mentions/bulk/", stream.mention_bulk, name="mention_bulk"),
    path(f"{W}mentions/read-all/", stream.mention_read_all, name="mention_read_all"),
    path(f"{W}mentions/<int:mention_id>/", stream.mention_detail, name="mention"),
    path(f"{W}mentions/<int:mention_id>/triage/", stream.mention_triage, name="mention_triage"),
    path(
        f"{W}mentions/<int:mention_id>/sentiment/",
        sentiment.mention_sentiment,
        name="mention_sentiment",
    ),
    path(f"{W}sentiment/", sentiment.sentiment_evaluation, name="sentiment_evaluation"),
    # Sources
    path(f"{W}sources/", sources.source_list, name="sources"),
    path(f"{W}sources/add/feed/", sources.source_add_feed, name="source_add_feed"),
    path(f"{W}sources/add/network/", sources.source_add_network, name="source_add_network"),
    path(f"{W}sources/import/", sources.source_import, name="source_import"),
    path(f"{W}sources/export.opml", sources.source_export, name="source_export"),
    path(f"{W}sources/<int:source_id>/pause/", sources.source_pause, name="source_pause"),
    path(f"{W}sources/<int:source_id>/resume/", sources.source_resume, name="source_resume"),
    path(f"{W}sources/<int:source_id>/poll/", sources.source_poll, name="source_poll"),
    path(f"{W}sources/<int:source_id>/delete/", sources.source_delete, name="source_delete"),
    # Topics
    path(f"{W}topics/", topics.topic_list, name="topics"),
    path(f"{W}topics/new/", topics.topic_create, name="topic_create"),
    path(f"{W}topics/check/", topics.topic_check, name="topic_check"),
    path(f"{W}topics/backtest/", topics.topic_backtest, name="topic_backtest"),
    path(f"{W}topics/<int:topic_id>/edit/", topics.topic_edit, name="topic_edit"),
    path(f"{W}topics/<int:topic_id>/delete/", topics.topic_delete, name="topic_delete"),
    # Help
    path(f"{W}query-language/", query_help.query_help, name="query_help"),
]
