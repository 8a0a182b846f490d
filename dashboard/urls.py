"""The owner dashboard, under /dashboard/ (the `dashboard` namespace). Channels and keys are addressed by public UUIDs.

A channel's own pages are this app's views; the pages other apps keep are included from their URL maps: a
channel's conversations and usage (dashboard/conversation_urls.py), alerts and knowledge.
"""

from django.urls import include, path

from dashboard import channel_views, credit_views, delete_views, key_views, organisation_credit_views, widget_views

app_name = "dashboard"

urlpatterns = [
    path("", channel_views.channel_list, name="channel-list"),
    path("channels/new/", channel_views.channel_new, name="channel-new"),
    path("channels/<uuid:public_id>/", channel_views.channel_detail, name="channel-detail"),
    path("channels/<uuid:public_id>/edit/", channel_views.channel_edit, name="channel-edit"),
    path("channels/<uuid:public_id>/integrate/", channel_views.channel_integrate, name="channel-integrate"),
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
    path("channels/<uuid:public_id>/delete/", delete_views.channel_delete, name="channel-delete"),
    path("channels/<uuid:public_id>/credits/request/", credit_views.credit_request, name="credit-request"),
    path("channels/<uuid:public_id>/credits/draw/", organisation_credit_views.credit_draw, name="credit-draw"),
    path("channels/<uuid:public_id>/keys/rotate/", key_views.key_rotate, name="key-rotate"),
    path("channels/<uuid:public_id>/keys/new/", key_views.key_create, name="key-create"),
    path("channels/<uuid:public_id>/keys/<uuid:key_id>/edit/", key_views.key_edit, name="key-edit"),
    path("channels/<uuid:public_id>/keys/<uuid:key_id>/", key_views.key_shown, name="key-shown"),
    path("channels/<uuid:public_id>/keys/<uuid:key_id>/reveal/", key_views.key_reveal, name="key-reveal"),
    path("channels/<uuid:public_id>/keys/<uuid:key_id>/revoke/", key_views.key_revoke, name="key-revoke"),
    path("channels/<uuid:public_id>/", include("dashboard.conversation_urls")),
    path("channels/<uuid:public_id>/", include("dashboard.alert_urls")),
    path("channels/<uuid:public_id>/", include("dashboard.knowledge_urls")),
]
