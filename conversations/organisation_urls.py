"""The organisation's activity pages, under /dashboard/org/<id>/ in the teams namespace: gateway/urls.py joins them
to teams' own routes, so teams (a layer below) never imports the chat engine."""

from django.urls import path

from conversations import activity_views

urlpatterns = [
    path("<uuid:org_id>/activity/", activity_views.organisation_activity, name="activity"),
    path("<uuid:org_id>/activity/export.csv", activity_views.organisation_activity_export, name="activity-export"),
]
