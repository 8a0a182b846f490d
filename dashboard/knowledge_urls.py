"""A channel's Knowledge page, included by the dashboard under channels/<public_id>/ (dashboard/urls.py)."""

from django.urls import path

from dashboard import knowledge_views

urlpatterns = [
    path("knowledge/", knowledge_views.knowledge_page, name="knowledge"),
    path("knowledge/add/", knowledge_views.knowledge_add, name="knowledge-add"),
    path("knowledge/refresh/", knowledge_views.knowledge_refresh, name="knowledge-refresh"),
    path("knowledge/remove/", knowledge_views.knowledge_remove, name="knowledge-remove"),
    path("knowledge/dismiss/", knowledge_views.unanswered_dismiss, name="knowledge-dismiss"),
]
