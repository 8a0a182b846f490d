from django.contrib import admin
from django.urls import path, re_path
from django.views.generic import TemplateView

from conversations.views import ChatView, HistoryView
from gateway.errors import api_not_found
from gateway.metrics import metrics_view

urlpatterns = [
    re_path(r"^api/chat/?$", ChatView.as_view(), name="api-chat"),
    re_path(r"^api/history/?$", HistoryView.as_view(), name="api-history"),
    path("metrics", metrics_view, name="metrics"),
    re_path(r"^api(?:/.*)?$", api_not_found),
    path("admin/", admin.site.urls),
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
]
