"""The owner's conversation pages, included by the dashboard (dashboard/urls.py) under /dashboard/channels/<id>/."""

from django.urls import path

from dashboard import activity_views, conversation_views

urlpatterns = [
    path("conversations/", conversation_views.session_list, name="session-list"),
    path("conversations/export.<str:fmt>", conversation_views.session_export, name="session-export"),
    path("conversations/erase/", conversation_views.session_erase, name="session-erase"),
    # A transcript's session_id is percent-encoded into one segment (dashboard/links.py);
    # `.` and `..`, which no path can carry, come as ?session_id= on the shorter route.
    path("conversations/<int:thread>/", conversation_views.transcript, name="transcript-by-query"),
    path("conversations/<int:thread>/<path:session_id>", conversation_views.transcript, name="transcript"),
    path("usage/", conversation_views.usage_page, name="usage"),
    path("activity/", activity_views.channel_activity, name="activity"),
    path("activity/export.csv", activity_views.channel_activity_export, name="activity-export"),
]
