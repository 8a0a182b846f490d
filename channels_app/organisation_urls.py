"""The organisation's credits page, under /dashboard/org/<id>/ in the teams namespace: gateway/urls.py joins it to
teams' own routes, so teams (a layer below) never imports channels_app."""

from django.urls import path

from channels_app import organisation_credit_views

urlpatterns = [
    path("<uuid:org_id>/credits/", organisation_credit_views.org_credits, name="credits"),
]
