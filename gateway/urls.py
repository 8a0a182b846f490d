from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import TemplateView

from conversations.edge.api_extensions import FeedbackView
from conversations.edge.openai_views import ChatCompletionsView, ModelsView, ModelView, ResponsesView
from conversations.edge.views import ChatView, HistoryView, WidgetChallengeView, WidgetConfigView, WidgetSessionView
from dashboard import channel_views
from gateway.infra.api_docs import ApiDocsView, SchemaView
from gateway.infra.errors import api_not_found, server_error
from gateway.infra.health import healthz
from gateway.infra.metrics import metrics_view
from teams import sso_views
from teams.accept_views import accept as invitation_accept

urlpatterns = [
    path("api/chat", ChatView.as_view(), name="api-chat"),
    path("api/chat/", ChatView.as_view()),
    path("api/history", HistoryView.as_view(), name="api-history"),
    path("api/history/", HistoryView.as_view()),
    path("api/feedback", FeedbackView.as_view(), name="api-feedback"),
    path("api/widget-config", WidgetConfigView.as_view(), name="api-widget-config"),
    path("api/widget-challenge", WidgetChallengeView.as_view(), name="api-widget-challenge"),
    path("api/widget-session", WidgetSessionView.as_view(), name="api-widget-session"),
    path("v1/chat/completions", ChatCompletionsView.as_view(), name="v1-chat-completions"),
    path("v1/models", ModelsView.as_view(), name="v1-models"),
    # Any characters, slashes (Groq's "openai/gpt-oss-120b") and line breaks (then 404 in OpenAI's shape) too.
    re_path(r"^v1/models/(?P<model>[\s\S]+)$", ModelView.as_view(), name="v1-model"),
    path("v1/responses", ResponsesView.as_view(), name="v1-responses"),
    re_path(r"^v1(?:/[\s\S]*)?$", api_not_found),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("metrics", metrics_view, name="metrics"),
    path("healthz", healthz, name="healthz"),
    re_path(r"^api(?:/.*)?$", api_not_found),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("dashboard/org/", include("dashboard.organisation_urls")),
    path("dashboard/", include("dashboard.urls")),
    path("invitations/<str:token>/", invitation_accept, name="invitation-accept"),
    # A user's own notices (a model retired under a channel), whatever organisation they work in: not an
    # organisation's page, so outside /dashboard/ and its policy (the service finds only the user's own).
    path("notices/<int:notice_id>/dismiss/", channel_views.notice_dismiss, name="notice-dismiss"),
    path("sso/<uuid:org_id>/login/", sso_views.sso_start, name="sso-start"),
    path("sso/callback/", sso_views.sso_callback, name="sso-callback"),
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
]

handler500 = server_error
