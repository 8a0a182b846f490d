"""The API's errors: the domain errors services raise, and the one place their answer's shape is built.

Each API family (gateway/infra/endpoints.py) has one shape: /api/ answers `{"error": "..."}`, /v1/
OpenAI's `{"error": {"message", "type", "code", "param"}}`, with the same statuses and messages. Every
error class carries its /v1 `openai_code`. `error_body(family, ...)` builds the body, and nothing
else does; `error_json` and `error_bytes` carry it as a Django response or raw ASGI bytes, and DRF's
exception handler as a DRF Response, whose `data` the views read to record a failed request.
JsonResponse and DRF's Response serialise it with different spacing (each form's tests pin its bytes).
"""

import json
import logging

from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from gateway.infra.endpoints import API, SECRET, V1, Endpoint, family_of

logger = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    message = "Bad request"
    openai_code: str | None = None  # its `code` in OpenAI's shape (/v1/); None where OpenAI's errors give none
    param: str | None = None  # the request field at fault, when one is (OpenAI's `param`)

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        self.message = message or self.message
        self.headers = headers or {}
        super().__init__(self.message)


class InvalidInput(ApiError):
    status = 400


class UnsupportedByModel(InvalidInput):
    """A request for what the channel's model cannot do (tools, structured output, images), by the catalog."""

    openai_code = "model_not_capable"

    def __init__(self, message: str, *, param: str):
        super().__init__(message)
        self.param = param


class PayloadTooLarge(ApiError):
    status = 413
    message = "Request body is too large"
    openai_code = "request_too_large"


class MissingApiKey(ApiError):
    status = 401
    message = "Missing API key"
    openai_code = "missing_api_key"


class InvalidApiKey(ApiError):
    status = 401
    message = "Invalid API key"
    openai_code = "invalid_api_key"


class SiteInactive(ApiError):
    status = 403
    message = "Site is inactive"
    openai_code = "channel_inactive"


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
    openai_code = "secret_key_required"


def wrong_key_kind(endpoint: Endpoint, method: str, kind: str) -> ApiError | None:
    """The refusal of a key of `kind` on `endpoint` with `method`, by the endpoint table; None when it may call it."""
    takes = endpoint.refusal(method, kind)
    if takes is None:
        return None
    return SecretKeyRequired() if takes == SECRET else PublishableKeyRequired()


class NoReplyToRate(ApiError):
    """POST /api/feedback on a session whose current thread has no reply yet."""

    status = 404
    message = "This session has no reply to give feedback on"


class ModelNotFound(ApiError):
    """The OpenAI-compatible API asked for a model its channel may not use (GET /v1/models lists those it may)."""

    status = 404
    message = "The model does not exist or this channel may not use it"
    openai_code = "model_not_found"


class ProofOfWorkRequired(ApiError):
    """A widget chat without a solved challenge, on a channel that requires one (conversations/engine/proof_of_work.py)."""

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
    openai_code = "insufficient_quota"


class RateLimited(ApiError):
    status = 429
    message = "Rate limit exceeded"
    openai_code = "rate_limit_exceeded"

    def __init__(self, retry_after: int):
        super().__init__(headers={"Retry-After": str(max(1, int(retry_after)))})


class DailyLimitExceeded(RateLimited):
    message = "Daily limit exceeded"
    openai_code = "daily_limit_exceeded"


class ServiceUnavailable(ApiError):
    status = 503
    message = "Service temporarily unavailable. Please try again."
    openai_code = "service_unavailable"

    def __init__(self, message: str | None = None):
        super().__init__(message, headers={"Retry-After": "5"})


class ProviderError(ApiError):
    status = 500
    message = "AI service error. Please try again."
    openai_code = "provider_error"


class NoAnswerError(ProviderError):
    """A reasoning model used the whole reply length thinking and wrote no answer: nothing stored, nothing spent."""

    message = (
        "The AI model used up the reply length before it answered. Please try again, or ask the channel owner "
        "to raise the channel's maximum reply length."
    )
    openai_code = "no_answer"


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


def _api_shape(status: int, message: str, code: str | None, param: str | None, extra: dict) -> dict:
    return {"error": message, **extra}


def _openai_shape(status: int, message: str, code: str | None, param: str | None, extra: dict) -> dict:
    kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": code, "param": param}}


# The OpenAI-compatible API (/v1/): the same errors, statuses and messages as /api/, in OpenAI's shape
# {"error": {"message", "type", "code", "param"}}, whose status codes the OpenAI SDKs map to their exception classes.
_OPENAI_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "invalid_request_error",
    405: "invalid_request_error", 413: "invalid_request_error", 415: "invalid_request_error", 429: "rate_limit_error",
}
_SHAPES = {API: _api_shape, V1: _openai_shape}

# The /v1/ shape as an OpenAPI schema (conversations/edge/openapi.py).
OPENAI_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "message": {"type": "string"}, "type": {"type": "string"},
        "code": {"type": "string", "nullable": True}, "param": {"type": "string", "nullable": True},
    }, "required": ["message", "type", "code", "param"]}},
    "required": ["error"],
}


def error_body(family: str, message: str, *, status: int = 400, code: str | None = None, param: str | None = None,
               **extra) -> dict:
    """The error as `family` words it: /api's {"error": message} (plus any `extra` a page needs, e.g. reauth_url),
    /v1's OpenAI object, whose `type` follows `status`."""
    return _SHAPES[family](status, message, code, param, extra)


def exception_body(family: str, exc: ApiError) -> dict:
    """An API error as `family` words it (a stream's error event)."""
    return error_body(family, exc.message, status=exc.status, code=exc.openai_code, param=exc.param)


def error_bytes(family: str, status: int, message: str, *, code: str | None = None) -> bytes:
    """The error as JSON bytes, for answers sent straight on ASGI (gateway/infra/body_limit.py)."""
    return json.dumps(error_body(family, message, status=status, code=code)).encode()


def error_json(family: str, status: int, message: str, **extra) -> JsonResponse:
    """The error as a Django JsonResponse, for plain views and middleware outside DRF."""
    return JsonResponse(error_body(family, message, status=status, **extra), status=status)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception in the shape of the request's family (gateway/infra/endpoints.py)."""
    family = family_of(context["request"].path) or API
    status, message = _status_and_message(exc, context)
    body = error_body(family, message, status=status, code=getattr(exc, "openai_code", None),
                      param=getattr(exc, "param", None))
    return Response(body, status=status, headers=exc.headers if isinstance(exc, ApiError) else None)


def _status_and_message(exc, context) -> tuple[int, str]:
    if isinstance(exc, ApiError):
        return exc.status, exc.message
    if isinstance(exc, drf.ValidationError):
        return 400, _first_validation_message(exc.detail)
    if isinstance(exc, drf.ParseError):
        return 400, "Request body is not valid JSON"
    if isinstance(exc, drf.UnsupportedMediaType):
        return 415, "Content-Type must be application/json"
    if isinstance(exc, drf.MethodNotAllowed):
        return 405, f"Method {context['request'].method} not allowed"
    if isinstance(exc, (Http404, drf.NotFound)):
        return 404, "Not found"
    if isinstance(exc, drf.APIException):
        return exc.status_code, _first_validation_message(exc.detail)
    logger.exception("Unhandled error in API view %s", context.get("view").__class__.__name__)
    return 500, "Internal server error"


# The catch-all is async: a sync view makes Django's ASGI handler start a thread (its per-request
# ThreadSensitiveContext's executor) for every call, ≈ 0.7 ms of CPU per unknown path, the cheapest request
# anyone can send (measured in process: 713 µs sync, see docs/performance.md).
async def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Any path under /api/ or /v1/ that no route claims, in its family's shape."""
    return error_json(family_of(request.path) or API, 404, "Not found")


def server_error(request, *args, **kwargs):
    """handler500: an error no view handled. Each API family keeps its error shape; pages get the 500 page."""
    from django.views.defaults import server_error as page

    family = family_of(request.path)
    if family is not None:
        return error_json(family, 500, "Internal server error")
    return page(request, *args, **kwargs)
