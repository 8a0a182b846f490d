"""The owner dashboard, under /dashboard/. Channels and keys are addressed by public UUIDs."""

from django.urls import path

from channels_app import key_views, views, widget_views
from conversations import dashboard as conversation_views

app_name = "dashboard"

urlpatterns = [
    path("", views.channel_list, name="channel-list"),
    path("channels/new/", views.channel_new, name="channel-new"),
    path("channels/<uuid:public_id>/", views.channel_detail, name="channel-detail"),
    path("channels/<uuid:public_id>/edit/", views.channel_edit, name="channel-edit"),
    path("channels/<uuid:public_id>/integrate/", views.channel_integrate, name="channel-integrate"),
    path("channels/<uuid:public_id>/widget/", widget_views.widget_page, name="channel-widget"),
    path("channels/<uuid:public_id>/widget/origins/", widget_views.widget_origins, name="widget-origins"),
    path("channels/<uuid:public_id>/widget/settings/", widget_views.widget_settings, name="widget-settings"),
    path("channels/<uuid:public_id>/widget/key/create/", widget_views.widget_key_create, name="widget-key-create"),
    path("channels/<uuid:public_id>/widget/key/rotate/", widget_views.widget_key_rotate, name="widget-key-rotate"),
    path(
        "channels/<uuid:public_id>/widget/key/<uuid:key_id>/revoke/",
        widget_views.widget_key_revoke,
        name="widget-key-revoke",
    ),
    path("channels/<uuid:public_id>/keys/rotate/", key_views.key_rotate, name="key-rotate"),
    path("channels/<uuid:public_id>/keys/<uuid:key_id>/reveal/", key_views.key_reveal, name="key-reveal"),
    path("channels/<uuid:public_id>/keys/<uuid:key_id>/revoke/", key_views.key_revoke, name="key-revoke"),
    path("channels/<uuid:public_id>/conversations/", conversation_views.session_list, name="session-list"),
    # A transcript's session_id is percent-encoded into one segment (conversations/links.py);
    # `.` and `..`, which no path can carry, come as ?session_id= on the shorter route.
    path(
        "channels/<uuid:public_id>/conversations/<int:thread>/",
        conversation_views.transcript,
        name="transcript-by-query",
    ),
    path(
        "channels/<uuid:public_id>/conversations/<int:thread>/<path:session_id>",
        conversation_views.transcript,
        name="transcript",
    ),
    path("channels/<uuid:public_id>/usage/", conversation_views.usage_page, name="usage"),
]
