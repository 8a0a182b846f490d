"""The chat flow, top to bottom: limits → prompt → provider → store → spend (whole or streamed)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from channels_app.catalog import CatalogModel
from channels_app.authentication import PresentedKey
from channels_app.models import Channel
from channels_app.services import credit_release
from conversations import admission, idempotency, limits, provider, selectors, sse, statements
from conversations.models import FailedRequest, Message
from conversations.prompt import build_messages
from gateway.db import db_phase
from gateway.errors import ApiError, CreditsExhausted, ProviderError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatReply:
    reply: str
    session_id: str
    replayed: bool = False  # the stored answer to an earlier request with the same Idempotency-Key

    def to_dict(self) -> dict:
        return {"reply": self.reply, "session_id": self.session_id}


@dataclass(frozen=True)
class _Admission:
    history: list[tuple[str, str]]
    daily_key: str


@dataclass(frozen=True)
class PreparedChat:
    """A chat that passed every check and holds its credit and daily slot: ready for the provider."""

    channel: Channel
    session_id: str
    message: str
    received_at: datetime
    daily_key: str
    metadata: dict
    history: list[tuple[str, str]]

    def attempts(self) -> list[tuple[CatalogModel, list[dict]]]:
        """The channel's model, then its fallback, each with a prompt trimmed to fit it."""
        models = [self.channel.catalog_model]
        if self.channel.catalog_fallback is not None:
            models.append(self.channel.catalog_fallback)
        return [(model, self.prompt_for(model)) for model in models]

    def prompt_for(self, model: CatalogModel) -> list[dict]:
        return build_messages(
            model=model,
            system_prompt=self.channel.system_prompt,
            metadata=self.metadata,
            history=self.history,
            message=self.message,
        )


async def chat_prepare(*, credential: PresentedKey, session_id: str, message: str, metadata: dict) -> PreparedChat:
    """The key, its limits, then a held credit. Raises the API's errors; holds nothing when it does."""
    received_at = timezone.now()
    admission = await _admit(credential=credential, session_id=session_id, now=received_at)
    return PreparedChat(
        credential.channel, session_id, message, received_at, admission.daily_key, metadata, admission.history
    )


async def chat_send_once(
    *, credential: PresentedKey, idempotency_key: str, session_id: str, message: str, metadata: dict
) -> ChatReply:
    """chat_send, at most once per Idempotency-Key: a repeat gets the stored answer."""
    fields = {"session_id": session_id, "message": message, "metadata": metadata}
    outcome = await idempotency.begin(
        credential=credential, key=idempotency_key, fingerprint=idempotency.fingerprint(fields)
    )
    if outcome.replay is not None:
        return ChatReply(replayed=True, **outcome.replay)
    try:
        return await chat_send(credential=credential, idempotency_claim=outcome.claim_id, **fields)
    except BaseException:
        await asyncio.shield(idempotency.abandon(outcome.claim_id))
        raise


async def chat_send(
    *, credential: PresentedKey, session_id: str, message: str, metadata: dict, idempotency_claim: int | None = None
) -> ChatReply:
    """Answer one chat message. The caller has validated the input; the key is verified here.

    A credit and a daily slot are held before the provider call and given back
    if it fails, so concurrent chats can never overspend; the user message and
    the reply are stored together, only once the reply exists.
    """
    chat = await chat_prepare(credential=credential, session_id=session_id, message=message, metadata=metadata)
    try:
        completion = await _complete(chat)
    except BaseException as exc:  # a provider failure, or the client went away (cancellation)
        await asyncio.shield(_release(channel=chat.channel, daily_key=chat.daily_key))
        if isinstance(exc, provider.ProviderFailure):
            logger.warning("Provider call failed for channel %s: %s", chat.channel.public_id, exc)
            raise ProviderError() from None
        raise

    # Once the reply exists it is stored and paid for even if the client has gone:
    # it can fetch it from /api/history.
    reply = ChatReply(reply=completion.text, session_id=session_id)
    await asyncio.shield(_record(chat=chat, completion=completion, idempotency_claim=idempotency_claim, answer=reply))
    return reply


async def _complete(chat: PreparedChat) -> provider.Completion:
    """The reply from the channel's model, or from its fallback when that fails."""
    attempts = chat.attempts()
    for number, (model, prompt) in enumerate(attempts, start=1):
        try:
            return await provider.complete(model=model.id, messages=prompt, max_tokens=model.output_reserve)
        except provider.ProviderFailure as exc:
            if number == len(attempts):
                raise
            _log_fallback(chat, model, exc)
    raise AssertionError("unreachable")


def _log_fallback(chat: PreparedChat, model: CatalogModel, exc: Exception) -> None:
    logger.warning(
        "Model %s failed for channel %s (%s); trying its fallback %s",
        model.id, chat.channel.public_id, exc, chat.channel.fallback_model,
    )


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
    nothing is stored or spent.
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
                    _log_fallback(chat, model, exc)
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
                await asyncio.shield(_give_back(chat, idempotency_claim))
                yield sse.event("error", {"error": ProviderError.message})
                return
            answer = ChatReply(reply=text, session_id=chat.session_id)
            try:
                await asyncio.shield(
                    _record(chat=chat, completion=upstream.completion(text), idempotency_claim=idempotency_claim, answer=answer)
                )
            except Exception:  # _record logged it and gave the credit back
                yield sse.event("error", {"error": ProviderError.message})
                return
            yield sse.event("done", answer.to_dict())
            return
    finally:
        if not settled:  # the client went away mid-stream
            pumping.cancel()
            if parts:
                partial = ChatReply(reply="".join(parts), session_id=chat.session_id)
                await asyncio.shield(
                    _record(
                        chat=chat,
                        completion=upstream.completion(partial.reply),
                        idempotency_claim=idempotency_claim,
                        answer=partial,
                    )
                )
            else:
                await asyncio.shield(_give_back(chat, idempotency_claim))


async def _give_back(chat: PreparedChat, idempotency_claim: int | None) -> None:
    """Undo what a chat held: its credit, its daily slot, its Idempotency-Key."""
    await _release(channel=chat.channel, daily_key=chat.daily_key)
    if idempotency_claim is not None:
        await idempotency.abandon(idempotency_claim)


@db_phase
def _admit(*, credential: PresentedKey, session_id: str, now: datetime) -> _Admission:
    daily_key = admission.admit(credential, "chat", session_id)
    channel = credential.channel
    try:
        held, history = statements.hold_and_history(channel_id=channel.pk, session_id=session_id, now=now)
    except BaseException:  # e.g. the database dropped the connection: nothing was held there
        limits.daily_release(daily_key)
        raise
    if not held:
        limits.daily_release(daily_key)
        raise CreditsExhausted()
    return _Admission(history=history, daily_key=daily_key)


@db_phase
def _release(*, channel: Channel, daily_key: str) -> None:
    credit_release(channel_id=channel.pk)
    limits.daily_release(daily_key)


@db_phase
def _record(
    *, chat: PreparedChat, completion: provider.Completion, idempotency_claim: int | None = None, answer: ChatReply | None = None
) -> None:
    reply = Message(
        role=Message.Role.ASSISTANT,
        content=completion.text,
        created_at=timezone.now(),
        model=completion.model,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        latency_ms=completion.latency_ms,
    )
    try:
        statements.store_exchange(
            channel_id=chat.channel.pk,
            session_id=chat.session_id,
            message=chat.message,
            received_at=chat.received_at,
            reply=reply,
            idempotency_claim=idempotency_claim,
            answer=answer.to_dict() if answer is not None else None,
        )
    except BaseException:
        logger.exception("Could not store a chat for channel %s; its credit is given back", chat.channel.public_id)
        _release.sync(channel=chat.channel, daily_key=chat.daily_key)
        raise


@db_phase
def history_get(*, credential: PresentedKey, session_id: str) -> list[dict]:
    admission.admit(credential, "history", session_id)
    channel = credential.channel
    return [m.to_dict() for m in selectors.thread_messages(channel=channel, session_id=session_id, now=timezone.now())]


@db_phase
def failed_request_record(*, credential: PresentedKey, endpoint: str, status: int, error: str) -> None:
    """Count a refused request for its channel's owner, when the key names a channel."""
    if credential.channel is None:
        try:
            credential.verify()
        except ApiError:
            pass  # an unknown or revoked key: no channel to count it for (an inactive one still has one)
    if credential.channel is not None:
        FailedRequest.objects.create(channel=credential.channel, endpoint=endpoint, status=status, error=error[:200])
