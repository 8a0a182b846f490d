"""The API's one error shape: every failure is `{"error": "..."}` with a status.

Services raise the domain errors below; views never build error JSON by hand.
The shape is built here only: `error_body` (the dict, e.g. for a stream's error
event), `error_bytes` (raw ASGI), `error_json` (plain Django views and
middleware) and `error_response` (DRF views, through api_exception_handler).
JsonResponse and DRF's Response serialise it with different spacing; each caller
keeps the one it had, so every answer stays byte-for-byte what it was.
"""

import json
import logging

from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    message = "Bad request"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        self.message = message or self.message
        self.headers = headers or {}
        super().__init__(self.message)


class InvalidInput(ApiError):
    status = 400


class UnsupportedByModel(InvalidInput):
    """A request for what the channel's model cannot do (tools, structured output, images), by the catalog."""

    def __init__(self, message: str, *, param: str):
        super().__init__(message)
        self.param = param


class PayloadTooLarge(ApiError):
    status = 413
    message = "Request body is too large"


class MissingApiKey(ApiError):
    status = 401
    message = "Missing API key"


class InvalidApiKey(ApiError):
    status = 401
    message = "Invalid API key"


class SiteInactive(ApiError):
    status = 403
    message = "Site is inactive"


class OriginNotAllowed(ApiError):
    """A publishable key used without an Origin, or from one its channel does not allow."""

    status = 403
    message = "Origin not allowed"


class SecretKeyInUrl(ApiError):
    """A secret key in the `key` query parameter: URLs end up in logs and browser history."""

    status = 401
    message = "Secret keys must be sent in the X-API-Key header, never in the URL"


class PublishableKeyRequired(ApiError):
    status = 403
    message = "This endpoint takes a publishable key"


class SecretKeyRequired(ApiError):
    """A publishable key where only a backend may act: erasing a session (DELETE /api/history), the OpenAI-compatible API."""

    status = 403
    message = "This endpoint takes a secret key"


class NoReplyToRate(ApiError):
    """POST /api/feedback on a session whose current thread has no reply yet."""

    status = 404
    message = "This session has no reply to give feedback on"


class ModelNotFound(ApiError):
    """The OpenAI-compatible API asked for a model its channel may not use (GET /v1/models lists those it may)."""

    status = 404
    message = "The model does not exist or this channel may not use it"


class ProofOfWorkRequired(ApiError):
    """A widget chat without a solved challenge, on a channel that requires one (conversations/proof_of_work.py)."""

    status = 403
    message = "Proof of work required"


class ProofOfWorkInvalid(ApiError):
    status = 403
    message = "Proof of work invalid or expired"


class ProofOfWorkReused(ApiError):
    status = 403
    message = "Proof of work already used"


class CreditsExhausted(ApiError):
    status = 403
    message = "This channel has no credits left. Ask the channel owner to top up its credits."


class RateLimited(ApiError):
    status = 429
    message = "Rate limit exceeded"

    def __init__(self, retry_after: int):
        super().__init__(headers={"Retry-After": str(max(1, int(retry_after)))})


class DailyLimitExceeded(RateLimited):
    message = "Daily limit exceeded"


class ServiceUnavailable(ApiError):
    status = 503
    message = "Service temporarily unavailable. Please try again."

    def __init__(self, message: str | None = None):
        super().__init__(message, headers={"Retry-After": "5"})


class ProviderError(ApiError):
    status = 500
    message = "AI service error. Please try again."


class NoAnswerError(ProviderError):
    """A reasoning model used the whole reply length thinking and wrote no answer: nothing stored, nothing spent."""

    message = (
        "The AI model used up the reply length before it answered. Please try again, or ask the channel owner "
        "to raise the channel's maximum reply length."
    )


def _first_validation_message(detail, path: str = "") -> str:
    """Flatten DRF's nested validation detail into one readable sentence.

    Our fields' messages already name the field; DRF's generic ones
    ("This field ...") get the dotted path in front.
    """
    if isinstance(detail, dict):
        field, inner = next(iter(detail.items()))
        if field not in ("non_field_errors", "detail"):
            path = f"{path}.{field}" if path else str(field)
        return _first_validation_message(inner, path)
    if isinstance(detail, list) and detail:
        return _first_validation_message(detail[0], path)
    message = str(detail)
    return f"{path}: {message}" if path and message.startswith("This ") else message


def error_body(message: str, **extra) -> dict:
    """The one error shape: {"error": message}, plus any `extra` fields a page needs (e.g. reauth_url)."""
    return {"error": message, **extra}


def error_bytes(message: str) -> bytes:
    """The error body as JSON bytes, for answers sent straight on ASGI (gateway/infra/body_limit.py)."""
    return json.dumps(error_body(message)).encode()


def error_json(status: int, message: str, **extra) -> JsonResponse:
    """The error as a Django JsonResponse, for plain views and middleware outside DRF."""
    return JsonResponse(error_body(message, **extra), status=status)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The error as a DRF Response, for API views (api_exception_handler)."""
    return Response(error_body(message), status=status, headers=headers)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: map every exception to the one error shape."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message, exc.headers)
    if isinstance(exc, drf.ValidationError):
        return error_response(400, _first_validation_message(exc.detail))
    if isinstance(exc, drf.ParseError):
        return error_response(400, "Request body is not valid JSON")
    if isinstance(exc, drf.UnsupportedMediaType):
        return error_response(415, "Content-Type must be application/json")
    if isinstance(exc, drf.MethodNotAllowed):
        return error_response(405, f"Method {context['request'].method} not allowed")
    if isinstance(exc, (Http404, drf.NotFound)):
        return error_response(404, "Not found")
    if isinstance(exc, drf.APIException):
        return error_response(exc.status_code, _first_validation_message(exc.detail))
    logger.exception("Unhandled error in API view %s", context.get("view").__class__.__name__)
    return error_response(500, "Internal server error")


# The OpenAI-compatible API (/v1/): the same errors, statuses and messages, in OpenAI's shape
# {"error": {"message", "type", "code", "param"}}, whose status codes the OpenAI SDKs map to their exception classes.
_OPENAI_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "invalid_request_error",
    405: "invalid_request_error", 413: "invalid_request_error", 415: "invalid_request_error", 429: "rate_limit_error",
}
_OPENAI_CODES = {
    "MissingApiKey": "missing_api_key", "InvalidApiKey": "invalid_api_key", "SiteInactive": "channel_inactive",
    "ChannelInactive": "channel_inactive", "SecretKeyRequired": "secret_key_required", "ModelNotFound": "model_not_found",
    "CreditsExhausted": "insufficient_quota", "RateLimited": "rate_limit_exceeded",
    "DailyLimitExceeded": "daily_limit_exceeded", "ServiceUnavailable": "service_unavailable",
    "ProviderError": "provider_error", "NoAnswerError": "no_answer", "PayloadTooLarge": "request_too_large",
    "UnsupportedByModel": "model_not_capable",
}


# The shape above as an OpenAPI schema (conversations/openapi.py).
OPENAI_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "message": {"type": "string"}, "type": {"type": "string"},
        "code": {"type": "string", "nullable": True}, "param": {"type": "string", "nullable": True},
    }, "required": ["message", "type", "code", "param"]}},
    "required": ["error"],
}


def openai_error_body(status: int, message: str, *, code: str | None = None, param: str | None = None) -> dict:
    """An error in OpenAI's shape: the same message and status as the API's own."""
    kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": code, "param": param}}


def openai_error_bytes(status: int, message: str, *, code: str | None = None) -> bytes:
    """OpenAI's error shape as JSON bytes, for /v1/ answers sent straight on ASGI (gateway/infra/body_limit.py)."""
    return json.dumps(openai_error_body(status, message, code=code)).encode()


def openai_code(exc: Exception) -> str | None:
    """The `code` of an API error in OpenAI's shape (None for errors OpenAI gives no code)."""
    return _OPENAI_CODES.get(type(exc).__name__)


def openai_exception_handler(exc, context):
    """The /v1/ views' exception handler: api_exception_handler's answer, in OpenAI's shape."""
    response = api_exception_handler(exc, context)
    code = openai_code(exc)
    param = getattr(exc, "param", None)
    response.data = openai_error_body(response.status_code, response.data["error"], code=code, param=param)
    return response


# The two catch-alls are async: a sync view makes Django's ASGI handler start a thread (its per-request
# ThreadSensitiveContext's executor) for every call, ≈ 0.7 ms of CPU per unknown path, the cheapest request
# anyone can send (measured in process: 713 µs sync, see docs/performance.md).
async def openai_not_found(request, *args, **kwargs) -> JsonResponse:
    """Any path under /v1/ that no route claims, in OpenAI's shape."""
    return JsonResponse(openai_error_body(404, "Not found"), status=404)


async def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Any path under /api/ that no route claims."""
    return error_json(404, "Not found")


def server_error(request, *args, **kwargs):
    """handler500: an error no view handled. The API keeps its one error shape; pages get the 500 page."""
    from django.views.defaults import server_error as page

    if request.path == "/api" or request.path.startswith("/api/"):
        return error_json(500, "Internal server error")
    return page(request, *args, **kwargs)
