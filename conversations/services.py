"""The chat flow, top to bottom: limits → prompt → provider → store → spend (streams: conversations/streaming.py)."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from channels_app.catalog import CatalogModel
from channels_app.authentication import PresentedKey
from channels_app.models import Channel
from channels_app.services import credit_release
from conversations import admission, idempotency, limits, provider, selectors, statements, widget_sessions
from conversations.models import FailedRequest, Session
from conversations.prompt import build_messages
from gateway import adb
from gateway.db import db_phase
from gateway.errors import ApiError, CreditsExhausted, InvalidInput, ProviderError

logger = logging.getLogger(__name__)


class WidgetSourceOnly(InvalidInput):
    message = "A publishable key can only read widget sessions"


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
    daily_key: tuple[str, ...]


@dataclass(frozen=True)
class PreparedChat:
    """A chat that passed every check and holds its credit and daily slot: ready for the provider."""

    channel: Channel
    session_id: str
    message: str
    received_at: datetime
    daily_key: tuple[str, ...]  # the keys of the daily slots it holds (conversations/limits.py held_keys)
    metadata: dict
    history: list[tuple[str, str]]
    source: str = "api"  # the session's namespace: the key's kind (conversations/widget_sessions.py)

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
    admitted = await _admit_on_loop(credential, session_id, received_at) if adb.available() else None
    if admitted is None:
        admitted = await _admit(credential=credential, session_id=session_id, now=received_at)
    return PreparedChat(
        credential.channel,
        session_id,
        message,
        received_at,
        admitted.daily_key,
        metadata,
        admitted.history,
        source=widget_sessions.source_of(credential),
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
        await asyncio.shield(chat_release(channel=chat.channel, daily_key=chat.daily_key))
        if isinstance(exc, provider.ProviderFailure):
            logger.warning("Provider call failed for channel %s: %s", chat.channel.public_id, exc)
            raise ProviderError() from None
        raise

    # Once the reply exists it is stored and paid for even if the client has gone:
    # it can fetch it from /api/history.
    reply = ChatReply(reply=completion.text, session_id=session_id)
    await asyncio.shield(chat_record(chat=chat, completion=completion, idempotency_claim=idempotency_claim, answer=reply))
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
            log_fallback(chat, model, exc)
    raise AssertionError("unreachable")


def log_fallback(chat: PreparedChat, model: CatalogModel, exc: Exception) -> None:
    """Log that `model` failed and the chat goes on to the channel's fallback (also for streamed chats)."""
    logger.warning(
        "Model %s failed for channel %s (%s); trying its fallback %s",
        model.id, chat.channel.public_id, exc, chat.channel.fallback_model,
    )


async def _admit_on_loop(credential: PresentedKey, session_id: str, now: datetime) -> _Admission | None:
    """_admit from the event loop, for a key in the key cache (gateway/adb.py); None when _admit must decide."""
    async with adb.phase():
        try:
            daily_key = await admission.admit_cached(credential, "chat", session_id)
        except admission.NotCached:
            return None
        try:
            held, history = await statements.hold_and_history_async(
                channel_id=credential.channel.pk, source=widget_sessions.source_of(credential), session_id=session_id, now=now
            )
        except BaseException:  # nothing was held in the database
            await asyncio.shield(limits.daily_release_async(daily_key))
            raise
        if not held:
            await limits.daily_release_async(daily_key)
            raise CreditsExhausted()
        return _Admission(history=history, daily_key=daily_key)


@db_phase
def _admit(*, credential: PresentedKey, session_id: str, now: datetime) -> _Admission:
    daily_key = admission.admit(credential, "chat", session_id)
    channel = credential.channel
    try:
        held, history = statements.hold_and_history(
            channel_id=channel.pk, source=widget_sessions.source_of(credential), session_id=session_id, now=now
        )
    except BaseException:  # e.g. the database dropped the connection: nothing was held there
        limits.daily_release(daily_key)
        raise
    if not held:
        limits.daily_release(daily_key)
        raise CreditsExhausted()
    return _Admission(history=history, daily_key=daily_key)


@db_phase
def chat_release(*, channel: Channel, daily_key: tuple[str, ...]) -> None:
    """Give back what an admitted chat holds (its credit and daily slots): it got no reply or could not be stored."""
    credit_release(channel_id=channel.pk)
    limits.daily_release(daily_key)


async def chat_record(
    *, chat: PreparedChat, completion: provider.Completion, idempotency_claim: int | None = None, answer: ChatReply | None = None
) -> None:
    """Store the exchange (and the Idempotency-Key's answer); on failure give the chat's credit back and raise."""
    if not adb.available():
        await _record_in_thread(chat=chat, completion=completion, idempotency_claim=idempotency_claim, answer=answer)
        return
    try:
        async with adb.phase():
            await statements.store_exchange_async(**_exchange(chat, completion, idempotency_claim, answer))
    except BaseException:
        logger.exception("Could not store a chat for channel %s; its credit is given back", chat.channel.public_id)
        await chat_release(channel=chat.channel, daily_key=chat.daily_key)
        raise


@db_phase
def _record_in_thread(
    *, chat: PreparedChat, completion: provider.Completion, idempotency_claim: int | None = None, answer: ChatReply | None = None
) -> None:
    try:
        statements.store_exchange(**_exchange(chat, completion, idempotency_claim, answer))
    except BaseException:
        logger.exception("Could not store a chat for channel %s; its credit is given back", chat.channel.public_id)
        chat_release.sync(channel=chat.channel, daily_key=chat.daily_key)
        raise


def _exchange(chat: PreparedChat, completion: provider.Completion, idempotency_claim, answer) -> dict:
    return {
        "channel_id": chat.channel.pk,
        "source": chat.source,
        "session_id": chat.session_id,
        "message": chat.message,
        "received_at": chat.received_at,
        "completion": completion,
        "replied_at": timezone.now(),
        "idempotency_claim": idempotency_claim,
        "answer": answer.to_dict() if answer is not None else None,
    }


@db_phase
def history_get(*, credential: PresentedKey, session_id: str, source: str | None = None) -> list[dict]:
    """The current thread's messages in the key's own namespace.

    A secret key may also read a widget session, explicitly (`source="widget"`),
    read-only: it can never chat into one. A publishable key reads widget sessions only.
    """
    if credential.publishable and source not in (None, Session.Source.WIDGET):
        raise WidgetSourceOnly()
    admission.admit(credential, "history", session_id)
    messages = selectors.thread_messages(
        channel=credential.channel, source=source or widget_sessions.source_of(credential), session_id=session_id, now=timezone.now()
    )
    return [m.to_dict() for m in messages]


@db_phase
def failed_request_record(*, credential: PresentedKey, endpoint: str, status: int, error: str) -> None:
    """Count a refused request for its channel's owner, when the key names a channel."""
    if credential.channel is None:
        try:
            credential.verify()
        except ApiError:
            pass  # an unknown or revoked key: no channel to count it for (an inactive one still has one)
    if credential.channel is not None:
        _failed_request_create(channel=credential.channel, endpoint=endpoint, status=status, error=error)


@db_phase
def failed_stream_record(*, channel: Channel, status: int, error: str) -> None:
    """Count a streamed chat that failed after its stream opened (`event: error`).

    Its HTTP status was 200 by then, so the view cannot tell; the row carries
    the status and error the same failure gets without streaming.
    """
    _failed_request_create(channel=channel, endpoint="chat", status=status, error=error)


def _failed_request_create(*, channel: Channel, endpoint: str, status: int, error: str) -> None:
    FailedRequest.objects.create(channel=channel, endpoint=endpoint, status=status, error=error[: FailedRequest.ERROR_MAX])
