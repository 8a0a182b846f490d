"""The organisation's credits and usage pages, under /dashboard/org/<id>/ in the teams namespace: gateway/urls.py
joins them to teams' own routes, so teams (a layer below) never imports the dashboard."""

from django.urls import path

from dashboard import organisation_credit_views, organisation_usage_views

urlpatterns = [
    path("<uuid:org_id>/credits/", organisation_credit_views.org_credits, name="credits"),
    path("<uuid:org_id>/usage/", organisation_usage_views.org_usage, name="usage"),
]
