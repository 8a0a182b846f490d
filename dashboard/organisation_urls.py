"""The organisation's usage page, under /dashboard/org/<id>/ in the teams namespace: gateway/urls.py joins it to
teams' own routes, so teams (a layer below) never imports the dashboard."""

from django.urls import path

from dashboard import organisation_usage_views

urlpatterns = [
    path("<uuid:org_id>/usage/", organisation_usage_views.org_usage, name="usage"),
]
