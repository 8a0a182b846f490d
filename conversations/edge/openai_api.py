"""The OpenAI-compatible API's shapes: a /v1/chat/completions body read into a ChatRequest, and the answers.

Not a second chat path: the request becomes the pipeline's ChatRequest (the
client's own conversation, the model it asked for, its sampling options) and
the pipeline's ChatReply becomes a `chat.completion`, or, streamed, the
`chat.completion.chunk`s of an encoder for conversations/edge/streaming.py.

Decisions (docs/api.md, "OpenAI-compatible API"):
- The stored history is not added: OpenAI clients send the whole conversation
  themselves. What is stored is the last user message and the reply, in the
  session named by `X-Session-Id`, else by `user`, else in a new session of
  its own (`v1-<hex>`), named in the answer's `X-Session-Id` header.
- The client's system (and developer) messages follow the owner's system
  prompt, or, on a channel set to refuse them, get 400.
- A known field that is null is as if absent. The fields clients send are passed on,
  passed on only to a model with the capability, or checked and dropped, each by
  the table in docs/api.md; any other field is a 400, whatever its value (null too).
- What the catalog says the model cannot do (tools, JSON output, images) is a 400
  naming it (`model_not_capable`), unless the channel's fallback model can.
- A tool-call turn is stored as text a person reads in the transcript: the
  reply's calls as `[tool call name(arguments) id=...]`, and when the conversation
  ends with tool results, those as the user's message `[tool result id=...] ...`.
"""

import time
import uuid
from dataclasses import dataclass

from channels_app.models import Channel
from channels_app.providers.catalog import RETIRED, Snapshot
from conversations.edge import sse
from conversations.edge.openai_fields import DROPPED, PASSED, BadField, flag, known_fields, sampling
from conversations.edge.serializers import MESSAGE_MAX, SESSION_ID_MAX
from conversations.engine import pipeline
from gateway.infra.endpoints import V1
from gateway.infra.errors import ModelNotFound, ProviderError, exception_body

SUPPORTED = {
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p",
    "stop", "user", "n", "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort",
} | PASSED | DROPPED
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}
MESSAGE_FIELDS = {"role", "content", "name", "refusal", "tool_calls", "tool_call_id"}
# An image part stands in the stored message as this (the stored history is text).
IMAGE_MARK = "[image]"


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


def new_session_id(once: str | None = None) -> str:
    """A session of its own; with an Idempotency-Key (`once`: the key's id and it), the same one for its retries,
    so that a retry is the same request and gets the stored answer."""
    return f"v1-{(uuid.uuid5(uuid.NAMESPACE_URL, once) if once else uuid.uuid4()).hex}"


def read(data, *, channel: Channel, session_header: str | None, once: str | None = None,
         served: Snapshot | None = None) -> CompletionRequest:
    """The body, checked; raises BadField (400) naming the field, or ModelNotFound (404).

    `served`: the catalog, so that a retired id whose replacement the channel
    uses still names that model (clients written for the old id keep working).
    """
    if not isinstance(data, dict):
        raise BadField("Request body must be a JSON object")
    data = known_fields(data, SUPPORTED)
    if data.get("n", 1) != 1 or isinstance(data.get("n"), bool):
        raise BadField("n must be 1: one choice per request", "n")
    model = model_of(data, channel, served)
    stream = flag(data, "stream")
    include_usage = False
    if "stream_options" in data:
        options = data["stream_options"]
        if not stream:
            raise BadField("stream_options is only allowed with stream: true", "stream_options")
        if not isinstance(options, dict) or set(options) - {"include_usage", "include_obfuscation"}:
            raise BadField("stream_options takes only include_usage", "stream_options")
        include_usage = flag(options, "include_usage", "stream_options.include_usage")
        flag(options, "include_obfuscation", "stream_options.include_obfuscation")  # OpenAI's padding: none here
    needs: dict[str, str] = {"streaming": "stream"} if stream else {}
    conversation, stored = _conversation(data.get("messages"), channel, needs)
    chat = pipeline.ChatRequest(
        session_id=session_of(data, session_header, once),
        message=stored,
        metadata={},
        conversation=conversation,
        model=None if model == channel.model else model,
        sampling=sampling(data, needs),
        needs=needs or None,
    )
    return CompletionRequest(chat=chat, model=model, stream=stream, include_usage=include_usage)


def model_of(data: dict, channel: Channel, served: Snapshot | None) -> str:
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
    return model


def session_of(data: dict, session_header: str | None, once: str | None = None) -> str:
    """The session the exchange is stored in: the X-Session-Id header, else `user`, else a new one."""
    user = data.get("user")
    if user is not None and (not isinstance(user, str) or not user.strip() or len(user) > SESSION_ID_MAX or "\x00" in user):
        raise BadField(f"user must be a string of 1 to {SESSION_ID_MAX} characters", "user")
    return session_header or user or new_session_id(once)


def _conversation(messages, channel: Channel, needs: dict) -> tuple[tuple[dict, ...], str]:
    """The provider's messages, and what is stored as the user's message: the last user message, or after a
    tool call, the tool results that end the conversation (readable)."""
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
            raise BadField(f"{where}.role must be system, developer, user, assistant or tool", f"{where}.role")
        unknown = sorted(set(message) - MESSAGE_FIELDS)
        if unknown:
            raise BadField(f"Unsupported field: {where}.{unknown[0]}", f"{where}.{unknown[0]}")
        if ROLES[role] == "system" and refuse_system:
            raise BadField("This channel does not accept system messages from the client", f"{where}.role")
        conversation.append(_message(ROLES[role], message, where, needs))
    last = len(messages) - 1
    if conversation[-1]["role"] not in ("user", "tool"):
        raise BadField("The last message must be from the user", f"messages[{last}].role")  # or a tool's result
    if conversation[-1]["role"] == "tool":
        results = []
        for message in reversed(conversation):
            if message["role"] != "tool":
                break
            results.insert(0, f"[tool result id={message['tool_call_id']}] {message['content']}")
        return tuple(conversation), "\n".join(results)
    stored = stored_text(conversation[-1]["content"])
    if len(stored) > MESSAGE_MAX:
        raise BadField(f"The last message must be at most {MESSAGE_MAX} characters", f"messages[{last}].content")
    return tuple(conversation), stored


def stored_text(content) -> str:
    """A user message as the stored history keeps it: its text, an image as IMAGE_MARK."""
    if isinstance(content, str):
        return content
    return "".join(part["text"] if part["type"] == "text" else IMAGE_MARK for part in content)


def _message(role: str, message: dict, where: str, needs: dict) -> dict:
    """One message as the provider gets it (`name` and `refusal` are not sent: Groq refuses `name`)."""
    refusal = message.get("refusal")
    if refusal is not None and not isinstance(refusal, str):  # an assistant's earlier refusal: not sent on
        raise BadField(f"{where}.refusal must be null or a string", f"{where}.refusal")
    name = message.get("name")
    if name is not None and not isinstance(name, str):
        raise BadField(f"{where}.name must be a string", f"{where}.name")
    if role == "assistant":
        calls = message.get("tool_calls")
        if calls is None or calls == []:
            return {"role": role, "content": _text(message.get("content"), f"{where}.content")}
        content = message.get("content")
        out = {"role": role, "content": None if content in (None, "", []) else _text(content, f"{where}.content"),
               "tool_calls": _tool_calls(calls, f"{where}.tool_calls")}
        needs.setdefault("tools", f"{where}.tool_calls")
        return out
    if message.get("tool_calls") is not None:
        raise BadField(f"{where}.tool_calls is only allowed on an assistant message", f"{where}.tool_calls")
    if role == "tool":
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise BadField(f"{where}.tool_call_id must be the id of the tool call it answers", f"{where}.tool_call_id")
        needs.setdefault("tools", f"{where}.tool_call_id")
        return {"role": role, "tool_call_id": call_id, "content": _text(message.get("content"), f"{where}.content")}
    if message.get("tool_call_id") is not None:
        raise BadField(f"{where}.tool_call_id is only allowed on a tool message", f"{where}.tool_call_id")
    if role == "user" and isinstance(message.get("content"), list):
        return {"role": role, "content": _parts(message["content"], f"{where}.content", needs)}
    return {"role": role, "content": _text(message.get("content"), f"{where}.content")}


def _tool_calls(calls, where: str) -> list[dict]:
    if not isinstance(calls, list) or not calls:
        raise BadField(f"{where} must be a non-empty array", where)
    checked = []
    for j, call in enumerate(calls):
        here = f"{where}[{j}]"
        function = call.get("function") if isinstance(call, dict) else None
        if (not isinstance(function, dict) or call.get("type", "function") != "function"
                or not isinstance(call.get("id"), str) or not call["id"]
                or not isinstance(function.get("name"), str) or not isinstance(function.get("arguments", ""), str)):
            raise BadField(f'{here} must be {{"id", "type": "function", "function": {{"name", "arguments"}}}}', here)
        checked.append({"id": call["id"], "type": "function",
                        "function": {"name": function["name"], "arguments": function.get("arguments", "")}})
    return checked


def _parts(content: list, where: str, needs: dict) -> list[dict] | str:
    """A user message's parts: text, and images (then the model must have vision); text alone is joined."""
    parts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "image_url" and isinstance(part.get("image_url"), dict) and isinstance(part["image_url"].get("url"), str):
            needs.setdefault("vision", f"{where}[{j}]")
            parts.append({"type": "image_url", "image_url": part["image_url"]})
        elif kind == "text" and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        else:
            raise BadField(f"Only text and image content parts are supported ({where}[{j}])", f"{where}[{j}]")
    if all(part["type"] == "text" for part in parts):
        return _text(parts, where)
    if "\x00" in stored_text(parts):
        raise BadField(f"{where} must be text without NUL characters", where)
    return parts


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


def _message_of(reply: pipeline.ChatReply) -> dict:
    message = {"role": "assistant", "content": reply.reply or None, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
    return message


def _finish_reason(reply: pipeline.ChatReply) -> str:
    if reply.completion is not None:
        return reply.completion.finish_reason
    return "tool_calls" if reply.tool_calls else "stop"


def completion_body(reply: pipeline.ChatReply, *, model: str) -> dict:
    """A `chat.completion` for the pipeline's reply."""
    body = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _answered_by(reply, model),
        "choices": [{
            "index": 0,
            "message": _message_of(reply),
            "finish_reason": _finish_reason(reply),
        }],
    }
    usage = _usage(reply)
    if usage is not None:
        body["usage"] = usage
    return body


class CompletionChunks:
    """The stream's encoder (conversations/edge/streaming.py): `chat.completion.chunk`s, the usage chunk, `[DONE]`."""

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

    def _delta(self, delta: dict) -> bytes:
        if self.first:
            delta = {"role": "assistant", **delta}
        self.first = False
        return self._chunk([{"index": 0, "delta": delta, "finish_reason": None}])

    def token(self, delta: str) -> bytes:
        return self._delta({"content": delta})

    def tool_call(self, part: dict) -> bytes:
        """A piece of a tool call, forwarded as the provider sent it (the id and name first, then arguments)."""
        return self._delta({"tool_calls": [part]})

    def replayed(self, reply: pipeline.ChatReply) -> bytes:
        """A replayed answer's tool calls, whole."""
        return b"".join(self.tool_call({"index": i, **call}) for i, call in enumerate(reply.tool_calls or ()))

    def done(self, reply: pipeline.ChatReply) -> bytes:
        end = self._chunk([{"index": 0, "delta": {}, "finish_reason": _finish_reason(reply)}])
        if self.include_usage:
            end += self._chunk([], usage=_usage(reply) or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
        return end + sse.data("[DONE]")

    def error(self, error: ProviderError) -> bytes:
        return sse.data(exception_body(V1, error))


def models_body(channel: Channel) -> dict:
    """GET /v1/models: the models the channel may use, in OpenAI's list shape."""
    return {"object": "list", "data": [_model(channel, model) for model in models_for(channel)]}


def model_body(channel: Channel, model: str) -> dict | None:
    """GET /v1/models/{id}: one of them, or None for any other id."""
    return _model(channel, model) if model in models_for(channel) else None


def _model(channel: Channel, model: str) -> dict:
    return {"id": model, "object": "model", "created": int(channel.created_at.timestamp()), "owned_by": "ai-gateway"}
