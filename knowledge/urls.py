"""A channel's Knowledge page, included by the dashboard under channels/<public_id>/ (dashboard/urls.py)."""

from django.urls import path

from knowledge import views

urlpatterns = [
    path("knowledge/", views.knowledge_page, name="knowledge"),
    path("knowledge/add/", views.knowledge_add, name="knowledge-add"),
    path("knowledge/refresh/", views.knowledge_refresh, name="knowledge-refresh"),
    path("knowledge/remove/", views.knowledge_remove, name="knowledge-remove"),
    path("knowledge/dismiss/", views.unanswered_dismiss, name="knowledge-dismiss"),
]
