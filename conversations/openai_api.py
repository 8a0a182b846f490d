"""The OpenAI-compatible API's shapes: a /v1/chat/completions body read into a ChatRequest, and the answers.

Not a second chat path: the request becomes the pipeline's ChatRequest (the
client's own conversation, the model it asked for, its sampling options) and
the pipeline's ChatReply becomes a `chat.completion`, or, streamed, the
`chat.completion.chunk`s of an encoder for conversations/streaming.py.

Decisions (docs/api.md, "OpenAI-compatible API"):
- The stored history is not added: OpenAI clients send the whole conversation
  themselves. What is stored is the last user message and the reply, in the
  session named by `X-Session-Id`, else by `user`, else in a new session of
  its own (`v1-<hex>`), named in the answer's `X-Session-Id` header.
- The client's system (and developer) messages follow the owner's system
  prompt, or, on a channel set to refuse them, get 400.
- A field that is null is as if absent; a field the gateway does not support
  (tools, n > 1, logprobs, images, ...) is a 400, never silently dropped.
"""

import time
import uuid
from dataclasses import dataclass

from channels_app.catalog import RETIRED, Snapshot
from channels_app.models import Channel
from conversations import pipeline, sse
from conversations.serializers import MESSAGE_MAX, SESSION_ID_MAX
from gateway.infra.errors import InvalidInput, ModelNotFound, ProviderError, openai_code, openai_error_body

SUPPORTED = {
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p",
    "stop", "user", "n",
}
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
STOP_MAX = 4


class BadField(InvalidInput):
    """A 400 that names the request field it is about (OpenAI's `param`)."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class CompletionRequest:
    """A /v1/chat/completions request, read: the pipeline's request and how to answer it."""

    chat: pipeline.ChatRequest
    model: str  # the model id the answer names
    stream: bool
    include_usage: bool


def models_for(channel: Channel) -> list[str]:
    """The model ids the channel may use: its model, then its fallback."""
    return [channel.model] + ([channel.fallback_model] if channel.fallback_model else [])


def _replaced_by(model: str, channel: Channel, served: Snapshot | None) -> str | None:
    """The channel's model or fallback that serves the retired id `model`, if one does."""
    serving = served.serving(model) if served is not None and model in served.models else None
    if serving is None or served.models[model].status != RETIRED:
        return None
    for own in models_for(channel):
        mine = served.serving(own)
        if mine is not None and mine.id == serving.id:
            return own
    return None


def new_session_id() -> str:
    return f"v1-{uuid.uuid4().hex}"


def read(data, *, channel: Channel, session_header: str | None, served: Snapshot | None = None) -> CompletionRequest:
    """The body, checked; raises BadField (400) naming the field, or ModelNotFound (404).

    `served`: the catalog, so that a retired id whose replacement the channel
    uses still names that model (clients written for the old id keep working).
    """
    if not isinstance(data, dict):
        raise BadField("Request body must be a JSON object")
    data = {name: value for name, value in data.items() if value is not None}
    for name in sorted(data):
        if name not in SUPPORTED:
            raise BadField(f"Unsupported field: {name}", name)
    if data.get("n", 1) != 1 or isinstance(data.get("n"), bool):
        raise BadField("n must be 1: one choice per request", "n")
    model = data.get("model", channel.model)
    if not isinstance(model, str):
        raise BadField("model must be a string", "model")
    allowed = models_for(channel)
    if model not in allowed:
        replacement = _replaced_by(model, channel, served)
        if replacement is None:
            # Named, as OpenAI's own answer names the model: a client copied from another channel learns what to send.
            raise ModelNotFound(
                f"{ModelNotFound.message}: {model[:100]!r}. This channel may use: {', '.join(allowed)} (GET /v1/models lists them)"
            )
        model = replacement
    stream = _flag(data, "stream")
    include_usage = False
    if "stream_options" in data:
        options = data["stream_options"]
        if not stream:
            raise BadField("stream_options is only allowed with stream: true", "stream_options")
        if not isinstance(options, dict) or set(options) - {"include_usage"}:
            raise BadField("stream_options takes only include_usage", "stream_options")
        include_usage = _flag(options, "include_usage", "stream_options.include_usage")
    conversation = _conversation(data.get("messages"), channel)
    user = data.get("user")
    if user is not None and (not isinstance(user, str) or not user.strip() or len(user) > SESSION_ID_MAX or "\x00" in user):
        raise BadField(f"user must be a string of 1 to {SESSION_ID_MAX} characters", "user")
    session_id = session_header or user or new_session_id()
    chat = pipeline.ChatRequest(
        session_id=session_id,
        message=conversation[-1][1],
        metadata={},
        conversation=conversation,
        model=None if model == channel.model else model,
        sampling=_sampling(data),
    )
    return CompletionRequest(chat=chat, model=model, stream=stream, include_usage=include_usage)


def _flag(data: dict, name: str, param: str | None = None) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise BadField(f"{param or name} must be true or false", param or name)
    return value


def _conversation(messages, channel: Channel) -> tuple[tuple[str, str], ...]:
    if not isinstance(messages, list) or not messages:
        raise BadField("messages must be a non-empty array", "messages")
    refuse_system = channel.client_system_messages == Channel.ClientSystemMessages.REFUSE
    conversation = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise BadField(f"{where} must be an object", where)
        role = message.get("role")
        if role not in ROLES:
            raise BadField(f"{where}.role must be system, developer, user or assistant (tools are not supported)", f"{where}.role")
        unknown = sorted(set(message) - {"role", "content", "name"})
        if unknown:
            raise BadField(f"Unsupported field: {where}.{unknown[0]}", f"{where}.{unknown[0]}")
        if ROLES[role] == "system" and refuse_system:
            raise BadField("This channel does not accept system messages from the client", f"{where}.role")
        conversation.append((ROLES[role], _text(message.get("content"), f"{where}.content")))
    if conversation[-1][0] != "user":
        raise BadField("The last message must be from the user", f"messages[{len(messages) - 1}].role")
    if len(conversation[-1][1]) > MESSAGE_MAX:
        raise BadField(f"The last message must be at most {MESSAGE_MAX} characters", f"messages[{len(messages) - 1}].content")
    return tuple(conversation)


def _text(content, where: str) -> str:
    """A message's text: a string, or an array of text parts (joined); anything else is a 400."""
    if isinstance(content, list):
        parts = []
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise BadField(f"Only text content parts are supported ({where}[{j}])", f"{where}[{j}]")
            parts.append(part["text"])
        content = "".join(parts)
    if not isinstance(content, str):
        raise BadField(f"{where} must be a string or an array of text parts", where)
    if not content.strip() or "\x00" in content:
        raise BadField(f"{where} must be non-empty text without NUL characters", where)
    try:
        content.encode("utf-8")
    except UnicodeEncodeError:
        raise BadField(f"{where} must be valid Unicode text", where) from None
    return content


def _sampling(data: dict) -> pipeline.Sampling:
    limit = None
    for name in ("max_completion_tokens", "max_tokens"):
        if name in data:
            value = data[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BadField(f"{name} must be a positive integer", name)
            limit = value if limit is None else min(limit, value)
    stop = data.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (
        not isinstance(stop, list) or not 1 <= len(stop) <= STOP_MAX or not all(isinstance(s, str) and s for s in stop)
    ):
        raise BadField(f"stop must be a string or an array of 1 to {STOP_MAX} strings", "stop")
    return pipeline.Sampling(
        temperature=_number(data, "temperature", 2), top_p=_number(data, "top_p", 1),
        stop=tuple(stop) if stop else None, max_tokens=limit,
    )


def _number(data: dict, name: str, most: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= most:
        raise BadField(f"{name} must be a number from 0 to {most}", name)
    return value


# --- The answers ---


def _usage(reply: pipeline.ChatReply) -> dict | None:
    completion = reply.completion
    if completion is None:  # a replayed answer: its token counts are not kept with it
        return None
    prompt, output = completion.prompt_tokens or 0, completion.completion_tokens or 0
    usage = {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output}
    if completion.reasoning_tokens is not None:  # as OpenAI reports a reasoning model's: a part of completion_tokens
        usage["completion_tokens_details"] = {"reasoning_tokens": completion.reasoning_tokens}
    return usage


def _answered_by(reply: pipeline.ChatReply, asked: str) -> str:
    return reply.completion.model if reply.completion is not None else asked


def completion_body(reply: pipeline.ChatReply, *, model: str) -> dict:
    """A `chat.completion` for the pipeline's reply."""
    body = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _answered_by(reply, model),
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": reply.reply},
            "finish_reason": reply.completion.finish_reason if reply.completion is not None else "stop",
        }],
    }
    usage = _usage(reply)
    if usage is not None:
        body["usage"] = usage
    return body


class CompletionChunks:
    """The stream's encoder (conversations/streaming.py): `chat.completion.chunk`s, the usage chunk, `[DONE]`."""

    def __init__(self, *, model: str, include_usage: bool):
        self.id, self.created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        self.model, self.include_usage = model, include_usage
        self.first = True

    def _chunk(self, choices: list, **extra) -> bytes:
        chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                 "choices": choices, **extra}
        if self.include_usage and "usage" not in extra:
            chunk["usage"] = None
        return sse.data(chunk)

    def token(self, delta: str) -> bytes:
        content = {"role": "assistant", "content": delta} if self.first else {"content": delta}
        self.first = False
        return self._chunk([{"index": 0, "delta": content, "finish_reason": None}])

    def done(self, reply: pipeline.ChatReply) -> bytes:
        reason = reply.completion.finish_reason if reply.completion is not None else "stop"
        end = self._chunk([{"index": 0, "delta": {}, "finish_reason": reason}])
        if self.include_usage:
            end += self._chunk([], usage=_usage(reply) or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
        return end + sse.data("[DONE]")

    def error(self, error: ProviderError) -> bytes:
        return sse.data(openai_error_body(error.status, error.message, code=openai_code(error)))


def models_body(channel: Channel) -> dict:
    """GET /v1/models: the models the channel may use, in OpenAI's list shape."""
    created = int(channel.created_at.timestamp())
    return {"object": "list", "data": [
        {"id": model, "object": "model", "created": created, "owned_by": "ai-gateway"} for model in models_for(channel)
    ]}
