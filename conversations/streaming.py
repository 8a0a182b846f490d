"""Streamed chats: the same checks as a whole chat, then server-sent events as the provider writes.

The reply is stored once, when the provider finishes; a client that leaves
mid-stream keeps (and pays for) the part it received, or nothing at all. A
stream that fails after it opened is counted as a failed chat.
"""

import asyncio
import logging
from collections.abc import AsyncIterator

from django.conf import settings

from channels_app.authentication import PresentedKey
from conversations import idempotency, provider, sse
from conversations.services import (
    ChatReply,
    PreparedChat,
    chat_prepare,
    chat_record,
    chat_release,
    log_fallback,
    failed_stream_record,
)
from gateway.errors import ProviderError, error_body

logger = logging.getLogger(__name__)


async def chat_stream_start(
    *, credential: PresentedKey, idempotency_key: str | None, session_id: str, message: str, metadata: dict
) -> tuple[AsyncIterator[bytes], bool]:
    """Run every check now (raising the API's errors as usual), then hand back the event stream.

    The flag says the stream replays the stored answer of an earlier request
    with the same Idempotency-Key.
    """
    fields = {"session_id": session_id, "message": message, "metadata": metadata}
    claim = None
    if idempotency_key is not None:
        outcome = await idempotency.begin(
            credential=credential, key=idempotency_key, fingerprint=idempotency.fingerprint(fields)
        )
        if outcome.replay is not None:
            return _replay(outcome.replay), True
        claim = outcome.claim_id
    try:
        chat = await chat_prepare(credential=credential, **fields)
    except BaseException:
        if claim is not None:
            await asyncio.shield(idempotency.abandon(claim))
        raise
    return chat_stream(chat, idempotency_claim=claim), False


async def _replay(answer: dict) -> AsyncIterator[bytes]:
    yield sse.event("token", {"delta": answer["reply"]})
    yield sse.event("done", answer)


async def chat_stream(chat: PreparedChat, idempotency_claim: int | None = None) -> AsyncIterator[bytes]:
    """Server-sent events for a prepared chat: `token`s as the provider writes, then `done` or `error`.

    The reply is stored once, when the provider finishes. A client that leaves
    mid-stream cancels the provider call; if it had received part of the reply,
    that part is stored and the credit spent (it got an answer), otherwise
    nothing is stored or spent; either way its Idempotency-Key is given back.
    """
    events: asyncio.Queue = asyncio.Queue()
    upstream: provider.CompletionStream | None = None

    async def pump():
        nonlocal upstream
        attempts = chat.attempts()
        try:
            for number, (model, prompt) in enumerate(attempts, start=1):
                upstream = provider.CompletionStream(model=model.id, messages=prompt, max_tokens=model.output_reserve)
                sent = False
                try:
                    async for delta in upstream:
                        sent = True
                        events.put_nowait(("token", delta))
                except provider.ProviderFailure as exc:
                    if sent or number == len(attempts):  # the fallback cannot take over a started reply
                        raise
                    log_fallback(chat, model, exc)
                    continue
                events.put_nowait(("done", None))
                return
        except provider.ProviderFailure as exc:
            events.put_nowait(("error", exc))
        except Exception as exc:  # a bug must end the stream, not leave it beating forever
            logger.exception("Unexpected error while streaming for channel %s", chat.channel.public_id)
            events.put_nowait(("error", exc))

    pumping = asyncio.create_task(pump())
    parts: list[str] = []
    settled = False
    try:
        while True:
            try:
                kind, value = await asyncio.wait_for(events.get(), timeout=settings.STREAM_HEARTBEAT_SECONDS)
            except TimeoutError:
                yield sse.comment()
                continue
            if kind == "token":
                parts.append(value)
                yield sse.event("token", {"delta": value})
                continue
            text = "".join(parts)
            if kind == "done" and not text.strip():
                kind, value = "error", provider.ProviderFailure("The provider streamed an empty reply")
            settled = True
            if kind == "error":
                logger.warning("Provider stream failed for channel %s: %s", chat.channel.public_id, value)
                await asyncio.shield(_provider_failed(chat, idempotency_claim))
                yield sse.event("error", error_body(ProviderError.message))
                return
            answer = ChatReply(reply=text, session_id=chat.session_id)
            try:
                await asyncio.shield(
                    chat_record(chat=chat, completion=upstream.completion(text), idempotency_claim=idempotency_claim, answer=answer)
                )
            except Exception:  # chat_record logged it and gave the credit back
                await asyncio.shield(_count_failure(chat, idempotency_claim))
                yield sse.event("error", error_body(ProviderError.message))
                return
            yield sse.event("done", answer.to_dict())
            return
    finally:
        if not settled:  # the client went away mid-stream
            pumping.cancel()
            await asyncio.shield(_client_left(chat, upstream, "".join(parts), idempotency_claim))


async def _client_left(
    chat: PreparedChat, upstream: provider.CompletionStream | None, received: str, idempotency_claim: int | None
) -> None:
    """Settle a stream whose client hung up before its end.

    What the client was sent is stored and paid for, as without a key (else
    hanging up just before the end would get replies for free); but it is not
    stored as the Idempotency-Key's answer: the key is given back, so the
    client's retry runs again and gets a whole reply, not a replay of the
    cut-off one.
    """
    if not received:
        await _give_back(chat, idempotency_claim)
        return
    try:
        await chat_record(chat=chat, completion=upstream.completion(received))
    finally:
        if idempotency_claim is not None:
            await idempotency.abandon(idempotency_claim)


async def _provider_failed(chat: PreparedChat, idempotency_claim: int | None) -> None:
    """One shielded step, so a client leaving meanwhile cannot skip the count: give back, then count."""
    await _give_back(chat, idempotency_claim)
    await _count_failure(chat)


async def _count_failure(chat: PreparedChat, idempotency_claim: int | None = None) -> None:
    """Count the failed chat for the owner's dashboard (and give back its key if still held).

    Bookkeeping after the failure: when the database is what failed, this is
    only logged, and the client still gets its error event.
    """
    try:
        if idempotency_claim is not None:
            await idempotency.abandon(idempotency_claim)
        await failed_stream_record(channel=chat.channel, status=ProviderError.status, error=ProviderError.message)
    except Exception:
        logger.exception("Could not record a failed stream for channel %s", chat.channel.public_id)


async def _give_back(chat: PreparedChat, idempotency_claim: int | None) -> None:
    """Undo what a chat held: its credit, its daily slot, its Idempotency-Key."""
    await chat_release(channel=chat.channel, daily_key=chat.daily_key)
    if idempotency_claim is not None:
        await idempotency.abandon(idempotency_claim)
