"""A channel's alerts pages, included by the dashboard under channels/<public_id>/ (dashboard/urls.py)."""

from django.urls import path

from dashboard import alert_views

urlpatterns = [
    path("alerts/", alert_views.alerts_page, name="alerts"),
    path("alerts/webhook-secret/rotate/", alert_views.webhook_secret_rotate, name="webhook-secret-rotate"),
]
