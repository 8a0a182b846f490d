"""The public API's OpenAPI description: response shapes, every status and error body, streaming."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

import channels_app.schema  # noqa: F401  (registers the X-API-Key security scheme)
from conversations.edge.serializers import SESSION_ID_MAX, SOME_TEXT_PATTERN, ChatInput, HistoryInput
from conversations.engine.idempotency import KEY_MAX
from gateway.infra import header_values
from gateway.infra.endpoints import API
from gateway.infra.errors import OPENAI_ERROR_SCHEMA, error_body


class ErrorOutput(serializers.Serializer):
    error = serializers.CharField(help_text="What went wrong, in a sentence.")


class SourceOutput(serializers.Serializer):
    title = serializers.CharField(help_text="The page's or document's title (a Q&A pair: its question).")
    url = serializers.CharField(help_text="The page's address; empty for files, text snippets and Q&A pairs.")


class ChatOutput(serializers.Serializer):
    reply = serializers.CharField(help_text="The AI's reply; often Markdown.")
    session_id = serializers.CharField(help_text="Echoed from the request.")
    sources = SourceOutput(
        many=True,
        help_text="An extension: the channel's knowledge sources given to the model for this reply; [] when none.",
    )


class HistoryMessageOutput(serializers.Serializer):
    role = serializers.ChoiceField(choices=["user", "assistant"])
    content = serializers.CharField()
    created_at = serializers.DateTimeField(help_text="UTC, ISO 8601 with milliseconds, e.g. 2026-04-05T10:00:00.123Z")


class HistoryOutput(serializers.Serializer):
    messages = HistoryMessageOutput(many=True, help_text="The current thread, oldest first; [] when none or expired.")


# One server-sent event; `data` is JSON text: {"delta"} for token, {"reply", "session_id", "sources"} for done,
# {"error"} for error.
# Idempotency-Key (on /api/chat and /v1 alike) and X-Session-Id as gateway/infra/header_values.py is_token takes them.
_IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": header_values.TOKEN_PATTERN}
_SESSION_HEADER = {**_IDEMPOTENCY_KEY, "maxLength": SESSION_ID_MAX}

SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["token", "done", "error"]},
        "data": {"type": "string", "description": "JSON: see the response description."},
    },
    "required": ["event", "data"],
}

OK_DESCRIPTION = (
    "The reply as JSON; or, streamed, server-sent events, when the body has `\"stream\": true` or the request sends "
    "`Accept: text/event-stream`:\n\n"
    "- `event: token` with `data: {\"delta\": \"...\"}` as the provider writes;\n"
    "- then `event: done` with `data: {\"reply\": \"<full text>\", \"session_id\": \"...\", \"sources\": [...]}`;\n"
    "- or, if the provider fails after the stream opened, `event: error` with "
    "`data: {\"error\": \"AI service error. Please try again.\"}`.\n\n"
    "Lines starting with `:` are keep-alive comments. Every check (key, input, limits, credits) "
    "answers as plain JSON with its usual status before the stream opens."
)


def _error(description: str, *messages: str) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorOutput,
        description=description,
        examples=[OpenApiExample(m, value=error_body(API, m)) for m in messages],
    )


COMMON_ERRORS = {
    401: _error("No `X-API-Key` header, or a key that is malformed, unknown or revoked; or a secret key in the "
                "`key` query parameter.", "Missing API key", "Invalid API key",
                "Secret keys must be sent in the X-API-Key header, never in the URL"),
    403: _error("The channel is inactive (or, for chat, has no credits left); or a publishable key was used without "
                "an `Origin` header or from an origin its channel does not allow.", "Site is inactive",
                "This channel has no credits left. Ask the channel owner to top up its credits.",
                "Origin not allowed"),
    429: _error("A per-minute or daily limit is reached (the channel's; with a publishable key also the visitor's).", "Rate limit exceeded", "Daily limit exceeded"),
    503: _error("The limit counters are unreachable; nothing was done.", "Service temporarily unavailable. Please try again."),
}

PUBLISHABLE_KEY = OpenApiParameter(
    "key",
    {"type": "string", "pattern": r"^amgpk_[0-9A-Za-z]{49}$"},
    OpenApiParameter.QUERY,
    required=False,
    description="For the embeddable widget only: the channel's publishable key (`amgpk_…`), instead of `X-API-Key`. "
    "It works only from the channel's allowed origins (exact match on `Origin`), answers with CORS headers for "
    "them, and is subject to per-visitor limits (429). A secret key here is refused (401). See docs/widget.md.",
)

chat_schema = extend_schema(
    operation_id="chat",
    summary="Send a user message, receive the AI reply",
    description="The same `session_id` across requests keeps the conversation, sent to the model as context. "
    "Threads live 24 hours from their first message. Each answered chat spends one of the channel's credits "
    "(so does \u201cTry it out\u201d on this page).",
    request=ChatInput,
    examples=[
        OpenApiExample(
            "A visitor's question",
            value={"message": "Do you ship your mugs to Norway?", "session_id": "user-session-abc123"},
            request_only=True,
        ),
        OpenApiExample(
            "Streamed, with page context",
            value={
                "message": "Which mug fits in a car cup holder?",
                "session_id": "user-session-abc123",
                "stream": True,
                "metadata": {"url": "https://shop.example/mugs", "title": "Mugs"},
            },
            request_only=True,
        ),
    ],
    parameters=[
        PUBLISHABLE_KEY,
        OpenApiParameter(
            "Idempotency-Key",
            _IDEMPOTENCY_KEY,
            OpenApiParameter.HEADER,
            required=False,
            description="1–255 visible ASCII characters. Repeating a request with the same key and the same body "
            "within 24 hours returns the first answer (with `Idempotent-Replayed: true`) without a second "
            "provider call or charge (a streamed repeat gets the stored reply as one token, then done). "
            "A failed chat, or a stream its client hung up on before `done`, gives the key back: "
            "a retry runs again.",
        ),
    ],
    responses={
        (200, "application/json"): OpenApiResponse(response=ChatOutput, description=OK_DESCRIPTION),
        (200, "text/event-stream"): OpenApiResponse(response=SSE_EVENT, description=OK_DESCRIPTION),
        400: _error("Invalid input; the message names the field.", "message is required",
                    "message must be at most 2000 characters", "Request body must be a JSON object"),
        **COMMON_ERRORS,
        409: _error("The Idempotency-Key was used with a different body, or its first request is still running.",
                    "This Idempotency-Key was already used with a different request",
                    "A request with this Idempotency-Key is still in progress"),
        413: _error("The body is larger than 64 KiB.", "Request body is too large (at most 65536 bytes)"),
        415: _error("The body is not sent as application/json.", "Content-Type must be application/json"),
        500: _error("The AI provider failed; nothing was stored or charged.", "AI service error. Please try again."),
    },
)

history_schema = extend_schema(
    operation_id="history",
    summary="The current conversation thread, oldest first",
    parameters=[HistoryInput, PUBLISHABLE_KEY],
    responses={
        200: HistoryOutput,
        400: _error("No or an invalid session_id (for a publishable key: not one issued for its channel), or source.", "session_id is required"),
        **COMMON_ERRORS,
    },
)

# For the widget alone (docs/widget.md), not for integrators: kept out of the public schema.
class ErasedCounts(serializers.Serializer):
    threads = serializers.IntegerField(help_text="Conversation threads deleted.")
    messages = serializers.IntegerField(help_text="Messages deleted.")
    feedback = serializers.IntegerField(help_text="Feedback on those messages deleted.")
    idempotency_answers = serializers.IntegerField(help_text="Stored Idempotency-Key answers that replayed its replies.")
    failed_requests = serializers.IntegerField(help_text="Failed-request rows whose error quoted the session_id.")


class ErasureOutput(serializers.Serializer):
    session_id = serializers.CharField()
    deleted = ErasedCounts()


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


widget_config_schema = extend_schema(exclude=True)
widget_session_schema = extend_schema(exclude=True)


# --- The OpenAI-compatible API (/v1/): OpenAI's shapes, so its request and answers are raw schemas. ---

_V1_ERROR = OPENAI_ERROR_SCHEMA
_SOME_TEXT = {"type": "string", "pattern": SOME_TEXT_PATTERN}  # not blank, no NUL (as the view checks)
_TEXT_PARTS = {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
    "type": {"type": "string", "enum": ["text"]}, "text": _SOME_TEXT}, "required": ["type", "text"]}}
_FUNCTION_NAME = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"}
_RESPONSE_FORMAT = {"type": "object", "additionalProperties": False, "required": ["type"], "properties": {
    "type": {"type": "string", "enum": ["text", "json_object"]}},
    "description": "`text`, `json_object`, or `json_schema` with `json_schema` {name, schema, strict}; the two JSON "
    "kinds only on a model that supports them (400 `model_not_capable`)."}
# The sampling and control fields clients send: what becomes of each is docs/api.md's table.
_CONTROL_FIELDS = {
    "seed": {"type": "integer"},
    "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
    "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
    "logit_bias": {"type": "object", "description": "Checked, not sent on."},
    "logprobs": {"type": "boolean", "description": "Checked, not sent on."},
    "top_logprobs": {"type": "integer", "minimum": 0, "maximum": 20, "description": "Checked, not sent on."},
    "reasoning_effort": {"type": "string", "enum": ["none", "minimal", "low", "medium", "high", "xhigh"],
                         "description": "Sent on to a reasoning model, else dropped."},
    "verbosity": {"type": "string", "description": "Checked, not sent on."},
    "service_tier": {"type": "string", "description": "Checked, not sent on."},
    "store": {"type": "boolean", "description": "Checked, not sent on: the gateway stores the exchange itself."},
    "metadata": {"type": "object", "description": "Checked, not sent on."},
    "prompt_cache_key": {"type": "string", "description": "Checked, not sent on."},
    "safety_identifier": {"type": "string", "description": "Checked, not sent on."},
}


def _null_as_absent(schema: dict) -> dict:
    """`schema` with each optional top-level field nullable: /v1 takes a known field that is null as absent
    (docs/api.md), as OpenAI's clients send them. A `oneOf` becomes an `anyOf` whose first branch takes null (its
    branches are disjoint; OpenAPI 3.0's `nullable` beside a `oneOf` does not reach into it), an enum lists null."""

    def nullable(field: dict) -> dict:
        if "oneOf" in field:
            first, *rest = field["oneOf"]
            return {**{k: v for k, v in field.items() if k != "oneOf"}, "anyOf": [nullable(first), *rest]}
        return {**field, "nullable": True, **({"enum": [*field["enum"], None]} if "enum" in field else {})}

    required = set(schema.get("required", ()))
    return {**schema, "properties": {name: field if name in required else nullable(field)
                                     for name, field in schema["properties"].items()}}


V1_CHAT_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["messages"],
    "properties": {
        "messages": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": False,
            "required": ["role", "content"], "properties": {
                "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"]},
                "content": {"oneOf": [_SOME_TEXT, _TEXT_PARTS]},
                "name": {"type": "string", "nullable": True},
                "refusal": {"type": "string", "nullable": True},
            }},
            "description": "The whole conversation, oldest first, ending with a user message (at most 2000 "
            "characters) or a tool's result. The gateway adds no stored history. Also: assistant messages with "
            "`tool_calls` (content null), `tool` messages with `tool_call_id`, image parts on a vision model "
            "(docs/api.md)."},
        "model": {"type": "string", "description": "Default: the channel's model. Another id only if GET /v1/models lists it."},
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"},
                                                            "include_obfuscation": {"type": "boolean"}}, "additionalProperties": False,
                           "description": "Only with `stream: true` (else 400)."},
        "max_tokens": {"type": "integer", "minimum": 1, "description": "Capped by the channel's model."},
        "max_completion_tokens": {"type": "integer", "minimum": 1, "description": "Capped by the channel's model."},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "stop": {"oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 4}]},
        "user": {**_SOME_TEXT, "maxLength": 255, "description": "Names the session when there is no X-Session-Id header."},
        "n": {"type": "integer", "enum": [1]},
        "tools": {"type": "array", "maxItems": 128, "items": {"type": "object", "additionalProperties": False,
            "required": ["type", "function"], "properties": {
                "type": {"type": "string", "enum": ["function"]},
                "function": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
                    "name": _FUNCTION_NAME, "description": {"type": "string"}, "parameters": {"type": "object"},
                    "strict": {"type": "boolean"}}}}},
            "description": "Function tools, on a model that supports tools (else 400 `model_not_capable`)."},
        "tool_choice": {"type": "string", "enum": ["none", "auto"],
                        "description": "Also `required` or {\"type\": \"function\", \"function\": {\"name\"}} with tools."},
        "parallel_tool_calls": {"type": "boolean"},
        "response_format": _RESPONSE_FORMAT,
        **_CONTROL_FIELDS,
    },
}
V1_COMPLETION = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "object": {"type": "string", "enum": ["chat.completion"]},
        "created": {"type": "integer"}, "model": {"type": "string"},
        "choices": {"type": "array", "items": {"type": "object", "properties": {
            "index": {"type": "integer"},
            "message": {"type": "object", "properties": {"role": {"type": "string"}, "content": {"type": "string"}}},
            "finish_reason": {"type": "string"},
        }}},
        "usage": {"type": "object", "properties": {
            "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"}}},
    },
    "required": ["id", "object", "created", "model", "choices"],
}
# One server-sent event of a /v1 stream: unnamed, `data` a chat.completion.chunk as JSON text, `{"error": {...}}`, or [DONE].
V1_SSE_EVENT = {
    "type": "object",
    "properties": {"event": {"type": "string", "enum": ["message"]}, "data": {"type": "string"}},
    "required": ["data"],
}
# One server-sent event of a /v1/responses stream: named by its type, as OpenAI's Responses API names them
# (conversations/edge/responses_api.py emits these; `data` is the event as JSON text, its "type" the same name).
V1_RESPONSES_SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.done", "response.content_part.done",
            "response.output_item.done", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.completed", "error",
        ]},
        "data": {"type": "string"},
    },
    "required": ["event", "data"],
}
V1_MODELS = {
    "type": "object",
    "properties": {"object": {"type": "string", "enum": ["list"]}, "data": {"type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "string"}, "object": {"type": "string", "enum": ["model"]},
                                         "created": {"type": "integer"}, "owned_by": {"type": "string"}}}}},
    "required": ["object", "data"],
}


def _v1_error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=_V1_ERROR, description=description)


V1_ERRORS = {
    401: _v1_error("No `Authorization: Bearer` key, or one that is malformed, unknown or revoked."),
    403: _v1_error("A publishable key; an inactive channel; or (chat) no credits left (`code`: `insufficient_quota`)."),
    429: _v1_error("A per-minute or daily limit of the channel is reached, with `Retry-After`."),
    503: _v1_error("The limit counters are unreachable; nothing was done."),
}

# The headers both /v1 chat endpoints read.
V1_HEADERS = [
    OpenApiParameter("X-Session-Id", _SESSION_HEADER, OpenApiParameter.HEADER,
                     required=False, description="The session the exchange is stored in (GET /api/history reads it)."),
    OpenApiParameter("Idempotency-Key", _IDEMPOTENCY_KEY, OpenApiParameter.HEADER,
                     required=False, description="As on /api/chat."),
]

v1_chat_schema = extend_schema(
    operation_id="v1_chat_completions",
    summary="OpenAI-compatible chat completion",
    description="OpenAI's Chat Completions API on the channel's model, limits, credits and history, with "
    "`Authorization: Bearer <secret key>`. The session is `X-Session-Id`, else `user`, else a new one (named in the "
    "answer's `X-Session-Id` when the name is printable ASCII). Streamed (`stream: true`): `chat.completion.chunk` "
    "events, the usage chunk with "
    "`stream_options.include_usage`, then `data: [DONE]`. Errors are OpenAI's shape. See docs/api.md.",
    request={"application/json": _null_as_absent(V1_CHAT_REQUEST)},
    parameters=V1_HEADERS,
    responses={
        (200, "application/json"): OpenApiResponse(response=V1_COMPLETION, description="A chat.completion."),
        (200, "text/event-stream"): OpenApiResponse(response=V1_SSE_EVENT, description="chat.completion.chunk events, then data: [DONE]."),
        400: _v1_error("Invalid or unsupported input (n > 1, audio, ...), or what the model cannot do (tools, JSON "
                       "output, images: `code` `model_not_capable`); `param` names the field."),
        **V1_ERRORS,
        404: _v1_error("A model the channel may not use (`code`: `model_not_found`)."),
        409: _v1_error("The Idempotency-Key was used with a different body, or its first request is still running."),
        415: _v1_error("The body is not sent as application/json."),
        500: _v1_error("The AI provider failed; nothing was stored or charged."),
    },
)

v1_models_schema = extend_schema(
    operation_id="v1_models",
    summary="The models the channel may use (OpenAI-compatible)",
    responses={200: OpenApiResponse(response=V1_MODELS, description="The channel's model, then its fallback."), **V1_ERRORS},
)

v1_model_schema = extend_schema(
    operation_id="v1_model",
    summary="One model the channel may use (OpenAI-compatible)",
    responses={200: OpenApiResponse(response=V1_MODELS["properties"]["data"]["items"], description="The model."),
               **V1_ERRORS, 404: _v1_error("A model the channel may not use (`code`: `model_not_found`).")},
)

# OpenAI's Responses API: its request and answer are OpenAI's (openai/types/responses/), kept open here.
V1_RESPONSES_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["input"],
    "properties": {
        "input": {"oneOf": [{**_SOME_TEXT, "maxLength": 2000}, {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["role", "content"], "properties": {
                "type": {"type": "string", "enum": ["message"]},
                "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"]},
                "content": _SOME_TEXT}}}],
            "description": "Text, or items ending with a user message or a function's output: messages (content a "
            "string or input_text / output_text / input_image parts), function_call, function_call_output and "
            "item_reference items (docs/api.md)."},
        "instructions": _SOME_TEXT, "model": {"type": "string"}, "stream": {"type": "boolean"},
        "max_output_tokens": {"type": "integer", "minimum": 1},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "user": {**_SOME_TEXT, "maxLength": 255, "description": "Names the session when there is no X-Session-Id header."},
        "tools": {"type": "array", "maxItems": 128, "items": {"type": "object", "additionalProperties": False,
            "required": ["type", "name"], "properties": {
                "type": {"type": "string", "enum": ["function"]}, "name": _FUNCTION_NAME,
                "description": {"type": "string"}, "parameters": {"type": "object"}, "strict": {"type": "boolean"}}},
            "description": "Function tools, on a model that supports tools (else 400 `model_not_capable`)."},
        "tool_choice": {"type": "string", "enum": ["none", "auto"]},
        "parallel_tool_calls": {"type": "boolean"},
        "text": {"type": "object", "additionalProperties": False, "properties": {"format": _RESPONSE_FORMAT}},
        "store": {"type": "boolean"}, "metadata": {"type": "object"},
    },
}
V1_RESPONSE = {"type": "object", "properties": {
    "id": {"type": "string"}, "object": {"type": "string", "enum": ["response"]}, "status": {"type": "string"},
    "model": {"type": "string"}, "output": {"type": "array", "items": {"type": "object"}},
    # null for a replayed Idempotency-Key's answer, whose token counts are not kept (OpenAI's `usage` is optional too).
    "usage": {"type": "object", "nullable": True},
}, "required": ["id", "object", "status", "model", "output"]}

v1_responses_schema = extend_schema(
    operation_id="v1_responses",
    summary="OpenAI-compatible Responses API",
    description="OpenAI's Responses API on the same chat as /v1/chat/completions: text and message input, "
    "`instructions`, function tools, `text.format`, `stream` with the Responses events. See docs/api.md.",
    request={"application/json": _null_as_absent(V1_RESPONSES_REQUEST)},
    parameters=V1_HEADERS,
    responses={
        (200, "application/json"): OpenApiResponse(response=V1_RESPONSE, description="A response."),
        (200, "text/event-stream"): OpenApiResponse(response=V1_RESPONSES_SSE_EVENT, description="The Responses events."),
        400: _v1_error("Invalid or unsupported input; `param` names the field."),
        **V1_ERRORS,
        404: _v1_error("A model the channel may not use (`code`: `model_not_found`)."),
        409: _v1_error("The Idempotency-Key was used with a different body, or its first request is still running."),
        415: _v1_error("The body is not sent as application/json."),
        500: _v1_error("The AI provider failed; nothing was stored or charged."),
    },
)
