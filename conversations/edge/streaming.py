"""Streamed chats: the one chat pipeline (conversations/engine/pipeline.py), its deltas sent as server-sent events.

Not a second chat path: `events()` runs `pipeline.finish` with a sink that
forwards the provider's deltas, and turns what the pipeline returns or raises
into events through an encoder: /api/chat's `token`, `done` and `error`
(`ChatEvents`), or the OpenAI-compatible API's chunks (conversations/edge/openai_api.py),
with comment heartbeats while the provider is silent. A client that leaves mid-stream cancels the pipeline, which
settles what the client received (conversations/engine/pipeline.py `_cut_off`).
A stream that fails after it opened is counted as a failed chat here: its HTTP
status was 200 by then, so the view cannot tell.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from channels_app.providers import provider
from conversations.edge import sse
from conversations.engine import activity, pipeline, services
from gateway.infra.endpoints import API
from gateway.infra.errors import ProviderError, exception_body

logger = logging.getLogger(__name__)

_END = object()


class EventSink:
    """The pipeline's sink for a stream: deltas queued for the event stream, and what of them was sent."""

    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.sent: list[str] = []  # the deltas handed to the client, in order
        self.started = False
        self._upstream: provider.CompletionStream | None = None

    async def stream(self, upstream: provider.CompletionStream) -> provider.Completion:
        self._upstream = upstream
        parts = []
        async for delta in upstream:
            if isinstance(delta, str):
                parts.append(delta)
            self.started = True
            self.queue.put_nowait(delta)
        text = "".join(parts)
        if not upstream.tool_calls:  # a reply of tool calls alone has no text
            provider.require_answer(text, upstream.finish_reason)
        return upstream.completion(text)

    def partial(self) -> provider.Completion | None:
        received = "".join(delta for delta in self.sent if isinstance(delta, str))
        if self._upstream is None or not (received or any(isinstance(d, provider.ToolCallDelta) for d in self.sent)):
            return None
        return self._upstream.completion(received)


class Encoder(Protocol):
    """How a stream's events are written: one delta, a tool call's piece, the end (with the whole reply), a failure."""

    def token(self, delta: str) -> bytes: ...

    def tool_call(self, part: dict) -> bytes: ...

    def replayed(self, reply: pipeline.ChatReply) -> bytes:
        """What of a replayed answer is not its text (its tool calls), before `done`."""

    def done(self, reply: pipeline.ChatReply) -> bytes: ...

    def error(self, error: ProviderError) -> bytes: ...


class ChatEvents:
    """/api/chat's events: `token` {"delta"}, then `done` {"reply", "session_id"} or `error` {"error"}."""

    def token(self, delta: str) -> bytes:
        return sse.event("token", {"delta": delta})

    def tool_call(self, part: dict) -> bytes:
        return b""  # /api/chat sends no tools, so its model calls none

    def replayed(self, reply: pipeline.ChatReply) -> bytes:
        return b""

    def done(self, reply: pipeline.ChatReply) -> bytes:
        return sse.event("done", reply.to_dict())

    def error(self, error: ProviderError) -> bytes:
        return sse.event("error", exception_body(API, error))


async def events(
    started: pipeline.PreparedChat | pipeline.ChatReply, encoder: Encoder | None = None, *, endpoint: str = "chat"
) -> AsyncIterator[bytes]:
    """Server-sent events for a started chat: a token as the provider writes each delta, then the end or an error.

    `endpoint` names the API endpoint a failed stream is counted under.
    """
    encoder = encoder or ChatEvents()
    if isinstance(started, pipeline.ChatReply):  # a replayed answer, all at once
        if started.reply:
            yield encoder.token(started.reply)
        yield encoder.replayed(started)
        yield encoder.done(started)
        return
    sink = EventSink()
    run = asyncio.create_task(pipeline.finish(started, sink))
    run.add_done_callback(lambda _: sink.queue.put_nowait(_END))
    ended = False
    try:
        while True:
            try:
                item = await asyncio.wait_for(sink.queue.get(), timeout=settings.STREAM_HEARTBEAT_SECONDS)
            except TimeoutError:
                yield sse.comment()
                continue
            if item is _END:
                break
            sink.sent.append(item)
            yield encoder.token(item) if isinstance(item, str) else encoder.tool_call(item.part)
        ended = True
        try:
            reply = run.result()
        except Exception as exc:  # the provider failed, the reply could not be stored, or a bug
            if not isinstance(exc, ProviderError):
                logger.error("Streamed chat failed for channel %s: %r", started.key.channel.public_id, exc)
            error = exc if isinstance(exc, ProviderError) else ProviderError()
            await asyncio.shield(_count_failure(started, endpoint, error))
            yield encoder.error(error)
            return
        yield encoder.done(reply)
    finally:
        if not ended:  # the client went away mid-stream: the pipeline settles what it received
            run.cancel()
            await asyncio.shield(asyncio.wait([run]))


async def _count_failure(chat: pipeline.PreparedChat, endpoint: str, error: ProviderError) -> None:
    """Count the failed chat for the owner's dashboard, with the status and error it gets without streaming.

    Bookkeeping after the failure: when the database is what failed, this is
    only logged, and the client still gets its error event.
    """
    try:
        await services.failed_request_record(
            channel=chat.key.channel, endpoint=endpoint, status=error.status, error=error.message,
            key_id=chat.facts().key_id, key_name=chat.key.name, source=chat.key.source, session_id=chat.request.session_id, model=chat.models[0].id if chat.models else chat.key.channel.model,
            latency_ms=activity.latency_ms(chat.received_at, timezone.now()),
        )
    except Exception:
        logger.exception("Could not record a failed stream for channel %s", chat.key.channel.public_id)
