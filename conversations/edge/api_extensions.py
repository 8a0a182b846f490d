"""An API endpoint beyond the contract for visitors' data: feedback on replies (POST /api/feedback).

It reuses conversations/edge/views.py's ApiKeyView (key parsing, the error shape,
CORS for publishable keys, refusals recorded). Erasing a session is
DELETE /api/history, beside the GET in conversations/edge/views.py `HistoryView`.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.response import Response

from conversations.edge import feedback
from conversations.edge.openapi import COMMON_ERRORS, PUBLISHABLE_KEY, ErrorOutput
from conversations.edge.views import ApiKeyView
from gateway.infra.endpoints import API
from gateway.infra.errors import InvalidInput, error_body


def _error(description: str, *messages: str) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorOutput, description=description, examples=[OpenApiExample(m, value=error_body(API, m)) for m in messages]
    )


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

class FeedbackView(ApiKeyView):
    endpoint = "feedback"

    @feedback_schema
    async def post(self, request):
        if not isinstance(request.data, dict):
            raise InvalidInput("Request body must be a JSON object")
        data = feedback.FeedbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(await feedback.feedback_give(key=request.auth, **data.validated_data))
