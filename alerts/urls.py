"""A channel's alerts pages, included by the dashboard under channels/<public_id>/ (dashboard/urls.py)."""

from django.urls import path

from alerts import views

urlpatterns = [
    path("alerts/", views.alerts_page, name="alerts"),
    path("alerts/webhook-secret/rotate/", views.webhook_secret_rotate, name="webhook-secret-rotate"),
]
