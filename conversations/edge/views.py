import logging
import time

from django.http import StreamingHttpResponse
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from channels_app import credentials, widget
from channels_app.authentication import QUERY, ApiKeyAuthentication
from channels_app.credentials import VerifiedKey
from channels_app.refused_origins import refused_origin_record
from conversations.edge import streaming
from conversations.edge.openapi import (
    chat_schema,
    erase_schema,
    history_schema,
    widget_config_schema,
    widget_session_schema,
)
from conversations.edge.serializers import ChatInput, HistoryInput
from conversations.engine import idempotency, pipeline, services
from gateway.infra import cors
from gateway.infra.db import in_db_phase
from gateway.infra.errors import InvalidInput, OriginNotAllowed
from gateway.infra.json_answer import json_answer
from gateway.overrides.api_view import LoopAPIView

logger = logging.getLogger(__name__)


class ApiKeyView(LoopAPIView):
    # The API's views: the key parsed, refused by kind and resolved once into a VerifiedKey in `request.auth`
    # before the handler runs (channels_app/authentication.py); answers and errors in JSON,
    # CORS for publishable keys, refusals recorded. Dispatch runs on the event loop
    # (gateway/overrides/api_view.py). (A comment, not a docstring: the schema would take it as each
    # endpoint's description.)

    authentication_classes = [ApiKeyAuthentication]
    endpoint = ""  # its name in the edge's endpoint table (gateway/infra/endpoints.py)
    refused = None  # the ChannelInactive or OriginRefused that refused the key, if one did (it names the channel)

    def perform_content_negotiation(self, request, force=False):
        # Answers and errors are always JSON, whatever Accept says; a stream is
        # chosen by the chat view itself, not by DRF's renderers.
        return (JSONRenderer(), JSONRenderer.media_type)

    def initial(self, request, *args, **kwargs):
        self.started = time.monotonic()  # the activity log's latency of a refused request
        super().initial(request, *args, **kwargs)

    async def options(self, request, *args, **kwargs):
        # A CORS preflight carries no key header (authentication let it through); any other OPTIONS had a key.
        if cors.is_preflight(request):
            return await self.preflight(request)
        return super().options(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, (credentials.ChannelInactive, credentials.OriginRefused, credentials.KeyRevoked)):
            self.refused = exc
        return super().handle_exception(exc)

    async def after_finalize(self, request, response):
        key = self.authenticated_credential(request)
        verified = key if isinstance(key, VerifiedKey) else None
        # An inactive channel's refusals, and a revoked key's, count for the channel's owner; a refused origin is
        # counted by the widget-config view.
        inactive = self.refused if isinstance(self.refused, credentials.ChannelInactive) else None
        revoked = self.refused if isinstance(self.refused, credentials.KeyRevoked) else None
        channel = verified.channel if verified else (inactive or revoked).channel if (inactive or revoked) else None
        failed = response.status_code >= 400
        # An answered chat is recorded by the chat store, with its exchange; every other request here, a replayed
        # Idempotency-Key's answer included (the store stores nothing for it).
        replayed = response.has_header(REPLAY_HEADER)
        if channel is not None and (failed or replayed or self.endpoint not in CHAT_ENDPOINTS):
            error = self.error_message(response) if failed else REPLAY_NOTE if replayed else ""
            started = getattr(self, "started", None)
            named = verified if verified is not None and not verified.publishable else revoked
            record = services.failed_request_record if failed else services.answered_request_record
            try:
                await record(
                    channel=channel, endpoint=self.endpoint, status=response.status_code, error=error,
                    key_id=named.key_id if named is not None else None,
                    key_name=(verified or revoked).name if (verified or revoked) else "",
                    source=verified.source if verified else "api",
                    session_id=self.session_of(request), model=self.model_of(request, channel),
                    latency_ms=round((time.monotonic() - started) * 1000) if started is not None else None,
                )
            except Exception:  # bookkeeping: the database may be what failed; the answer stands
                logger.exception("Could not record a %s request", self.endpoint)
        if cors.is_preflight(request) or getattr(key, "publishable", False):
            cors.vary(response)
        origin = verified.cors_origin if verified else (inactive.cors_origin if inactive else None)
        if origin:
            cors.grant(response, origin)  # verified from one of its channel's allowed origins
        return response

    @staticmethod
    def session_of(request) -> str:
        """The session a request named, for the activity log: in its body, query or X-Session-Id header. Never an
        erasure's (DELETE): the session it erased is gone from the log too."""
        if request.method == "DELETE":
            return ""
        try:
            data = request.data if request.method == "POST" else {}
        except Exception:  # an unreadable body: it named none
            data = {}
        found = data.get("session_id") if isinstance(data, dict) else None
        found = found or request.query_params.get("session_id") or request.headers.get("X-Session-Id") or ""
        return found[:255] if isinstance(found, str) else ""

    def model_of(self, request, channel) -> str:
        """The model a refused chat would have gone to: the one it asked for (/v1/), else the channel's."""
        if self.endpoint not in CHAT_ENDPOINTS:
            return ""
        try:
            asked = request.data.get("model") if isinstance(request.data, dict) else None
        except Exception:
            asked = None
        return (asked if isinstance(asked, str) and asked else channel.model)[:64]

    @staticmethod
    def error_message(response) -> str:
        """The error an answer carries, for the owner's failed requests."""
        return response.data.get("error", "") if isinstance(response.data, dict) else ""

    async def preflight(self, request):
        """A CORS preflight: granted only to a publishable key's allowed origin, else 403 without CORS."""
        origin = request.META["HTTP_ORIGIN"]
        if not await widget.origin_allowed(raw=request.query_params.get(QUERY, "").strip(), origin=origin):
            raise OriginNotAllowed()
        return cors.preflight_granted(origin)


CHAT_ENDPOINTS = ("chat", "v1-chat", "v1-responses")
REPLAY_NOTE = "Replayed the stored answer of its Idempotency-Key; nothing was charged"


class ChatView(ApiKeyView):
    endpoint = "chat"

    @chat_schema
    async def post(self, request):
        refuse_untyped_body(request)
        if not isinstance(request.data, dict):  # DRF reports a JSON null as "No data provided"
            raise InvalidInput("Request body must be a JSON object")
        fields = ChatInput.validated(request.data)
        stream = fields.pop("stream") or "text/event-stream" in request.headers.get("Accept", "")
        once = idempotency_key_of(request)
        started = await pipeline.start(
            request.auth, pipeline.ChatRequest(**fields), idempotency_key=once, endpoint=self.endpoint
        )
        replayed = isinstance(started, pipeline.ChatReply)
        if stream:
            return event_stream(streaming.events(started), replayed=replayed)
        reply = await pipeline.finish(started)
        return json_answer(reply.to_dict(), headers=REPLAYED if replayed else None)


class HistoryView(ApiKeyView):
    # GET /api/history reads a session's current thread; DELETE erases the session (secret keys only).
    # (A comment, not a docstring: the schema would take it as the endpoint's description.)

    endpoint = "history"

    @history_schema
    async def get(self, request):
        data = HistoryInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        messages = await services.history_get(key=request.auth, **data.validated_data)
        return json_answer({"messages": messages})

    @erase_schema
    async def delete(self, request):
        data = HistoryInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        counts = await services.history_erase(key=request.auth, **data.validated_data)
        return Response({"session_id": data.validated_data["session_id"], "deleted": counts})


class WidgetConfigView(ApiKeyView):
    """The embeddable widget's looks, for its publishable key (not part of the integrators' API schema).

    The widget asks for its settings first, so a refused origin here is counted for the channel's owner
    (channels_app/refused_origins.py): where the widget is embedded but not working."""

    endpoint = "widget-config"

    @widget_config_schema
    async def get(self, request):
        return Response(await services.widget_config_get(key=request.auth))

    async def after_finalize(self, request, response):
        response = await super().after_finalize(request, response)
        if isinstance(self.refused, credentials.OriginRefused) and self.refused.origin:
            try:
                await in_db_phase(refused_origin_record, channel=self.refused.channel, origin=self.refused.origin)
            except Exception:  # bookkeeping: the answer stands
                logger.exception("Could not count a refused widget origin")
        return response


class WidgetChallengeView(ApiKeyView):
    """A proof-of-work challenge for the widget's next chat (conversations/engine/proof_of_work.py); counts nothing."""

    endpoint = "widget-challenge"

    @widget_config_schema
    async def get(self, request):
        return Response(await services.widget_challenge_get(key=request.auth), headers={"Cache-Control": "no-store"})


class WidgetSessionView(ApiKeyView):
    """A new server-issued session id for the widget (conversations/engine/widget_sessions.py; not in the integrators' schema)."""

    endpoint = "widget-session"

    @widget_session_schema
    async def post(self, request):
        return Response({"session_id": await services.widget_session_issue(key=request.auth)})


REPLAY_HEADER = "Idempotent-Replayed"
REPLAYED = {REPLAY_HEADER: "true"}


def refuse_untyped_body(request) -> None:
    """A chat body sent without a Content-Type is a 415, for every chat endpoint (/api/chat, /v1/chat/completions)."""
    if not request.content_type and request.META.get("CONTENT_LENGTH", "0") not in ("", "0"):
        raise UnsupportedMediaType(None)


def idempotency_key_of(request) -> str | None:
    """The request's Idempotency-Key header, checked (conversations/engine/idempotency.py); None when it sent none."""
    once = request.headers.get("Idempotency-Key")
    if once is not None and not idempotency.is_valid_key(once):
        raise InvalidInput("Idempotency-Key must be 1 to 255 visible ASCII characters")
    return once


def event_stream(events, *, replayed: bool = False) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8", headers=REPLAYED if replayed else None)
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
