"""API endpoints beyond the contract for visitors' data: feedback on replies and erasure of a session.

Kept out of conversations/views.py; they reuse its ApiKeyView (key parsing, the
error shape, CORS for publishable keys, refusals recorded).
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from channels_app.credentials import VerifiedKey
from conversations import admission, erasure, feedback
from conversations.models import AuditEvent, Session
from conversations.openapi import COMMON_ERRORS, PUBLISHABLE_KEY, ErrorOutput
from conversations.serializers import HistoryInput
from conversations.views import ApiKeyView, HistoryView
from gateway.infra.db import in_db_phase
from gateway.infra.endpoints import API
from gateway.infra.errors import InvalidInput, error_body


def _error(description: str, *messages: str) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorOutput, description=description, examples=[OpenApiExample(m, value=error_body(API, m)) for m in messages]
    )


class ErasedCounts(serializers.Serializer):
    threads = serializers.IntegerField(help_text="Conversation threads deleted.")
    messages = serializers.IntegerField(help_text="Messages deleted.")
    feedback = serializers.IntegerField(help_text="Feedback on those messages deleted.")
    idempotency_answers = serializers.IntegerField(help_text="Stored Idempotency-Key answers that replayed its replies.")
    failed_requests = serializers.IntegerField(help_text="Failed-request rows whose error quoted the session_id.")


class ErasureOutput(serializers.Serializer):
    session_id = serializers.CharField()
    deleted = ErasedCounts()


feedback_schema = extend_schema(
    operation_id="feedback",
    summary="Rate the latest reply of a session (👍/👎, optional comment)",
    description="Feedback on the latest reply of the session's current thread, in the key's own namespace. "
    "Giving it again replaces it (one per reply). Owners see it in the transcript and on the usage page. "
    "An extension: not part of the original contract.",
    request=feedback.FeedbackInput,
    parameters=[PUBLISHABLE_KEY],
    responses={
        200: feedback.FeedbackOutput,
        400: _error("Invalid input; the message names the field.", "rating is required", 'rating must be "up" or "down"',
                    "comment must be at most 1000 characters", "Invalid session_id"),
        **{k: v for k, v in COMMON_ERRORS.items() if k != 429},
        404: _error("The session's current thread has no reply.", "This session has no reply to give feedback on"),
        415: _error("The body is not sent as application/json.", "Content-Type must be application/json"),
    },
)

erase_schema = extend_schema(
    operation_id="history_erase",
    summary="Erase a session: every thread, message, feedback and stored answer",
    description="Deletes every copy of the session in the channel (all its threads; with `source=widget`, the "
    "widget's session of that id), at once and for good, and records the erasure in the channel's audit log "
    "without the content. Secret key only. Erasing a session that does not exist deletes nothing and answers "
    "zeros. An extension: not part of the original contract.",
    parameters=[HistoryInput],
    responses={
        200: ErasureOutput,
        400: _error("No or an invalid session_id or source.", "session_id is required"),
        401: COMMON_ERRORS[401],
        403: _error("The channel is inactive, or the key is a publishable one.", "Site is inactive",
                    "This endpoint takes a secret key"),
        503: COMMON_ERRORS[503],
    },
)


class FeedbackView(ApiKeyView):
    endpoint = "feedback"

    @feedback_schema
    async def post(self, request):
        if not isinstance(request.data, dict):
            raise InvalidInput("Request body must be a JSON object")
        data = feedback.FeedbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(await feedback.feedback_give(key=request.auth, **data.validated_data))


class HistoryAndErasureView(HistoryView):
    """GET /api/history (conversations/views.py) and, here, DELETE: erase the session."""

    @erase_schema
    async def delete(self, request):
        data = HistoryInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        counts = await _erase(key=request.auth, **data.validated_data)
        return Response({"session_id": data.validated_data["session_id"], "deleted": counts})


async def _erase(*, key: VerifiedKey, session_id: str, source: str | None = None) -> dict:
    key = (await admission.admit(key, "erase")).key  # counts nothing; refuses a key changed since it was read
    return await in_db_phase(
        erasure.session_erase, channel=key.channel, session_id=session_id, source=source or Session.Source.API,
        via=AuditEvent.Via.API,
    )
