"""The owner's conversation pages, included by the dashboard (dashboard/urls.py) under /dashboard/channels/<id>/."""

from django.urls import path

from conversations import activity_views, dashboard

urlpatterns = [
    path("conversations/", dashboard.session_list, name="session-list"),
    path("conversations/export.<str:fmt>", dashboard.session_export, name="session-export"),
    path("conversations/erase/", dashboard.session_erase, name="session-erase"),
    # A transcript's session_id is percent-encoded into one segment (conversations/links.py);
    # `.` and `..`, which no path can carry, come as ?session_id= on the shorter route.
    path("conversations/<int:thread>/", dashboard.transcript, name="transcript-by-query"),
    path("conversations/<int:thread>/<path:session_id>", dashboard.transcript, name="transcript"),
    path("usage/", dashboard.usage_page, name="usage"),
    path("activity/", activity_views.channel_activity, name="activity"),
    path("activity/export.csv", activity_views.channel_activity_export, name="activity-export"),
]
