"""The chat flow, top to bottom: limits → prompt → provider → store → spend."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels_app.models import ApiKey, Channel
from channels_app.services import credit_hold, credit_release
from conversations import limits, provider, selectors
from conversations.models import FailedRequest, Message, Session
from conversations.prompt import build_messages
from gateway.db import db_phase
from gateway.errors import CreditsExhausted, ProviderError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatReply:
    reply: str
    session_id: str


@dataclass(frozen=True)
class _Admission:
    history: list[tuple[str, str]]
    daily_key: str


async def chat_send(*, api_key: ApiKey, session_id: str, message: str, metadata: dict) -> ChatReply:
    """Answer one chat message. The caller has authenticated the key and validated the input.

    A credit and a daily slot are held before the provider call and given back
    if it fails, so concurrent chats can never overspend; the user message and
    the reply are stored together, only once the reply exists.
    """
    channel = api_key.channel
    received_at = timezone.now()
    admission = await _admit(channel=channel, session_id=session_id, now=received_at)

    model = channel.catalog_model
    messages = build_messages(
        model=model,
        system_prompt=channel.system_prompt,
        metadata=metadata,
        history=admission.history,
        message=message,
    )
    try:
        completion = await provider.complete(model=model.id, messages=messages, max_tokens=model.output_reserve)
    except BaseException as exc:  # a provider failure, or the client went away (cancellation)
        await asyncio.shield(_release(channel=channel, daily_key=admission.daily_key))
        if isinstance(exc, provider.ProviderFailure):
            logger.warning("Provider call failed for channel %s: %s", channel.public_id, exc)
            raise ProviderError() from None
        raise

    # Once the reply exists it is stored and paid for even if the client has gone:
    # it can fetch it from /api/history.
    await asyncio.shield(
        _record(
            channel=channel,
            session_id=session_id,
            message=message,
            received_at=received_at,
            completion=completion,
            daily_key=admission.daily_key,
        )
    )
    return ChatReply(reply=completion.text, session_id=session_id)


@db_phase
def _admit(*, channel: Channel, session_id: str, now: datetime) -> _Admission:
    limits.minute_check(channel, "chat")
    daily_key = limits.daily_hold(channel)
    if not credit_hold(channel_id=channel.pk):
        limits.daily_release(daily_key)
        raise CreditsExhausted()
    try:
        history = selectors.thread_history(channel=channel, session_id=session_id, now=now)
    except BaseException:
        _release.sync(channel=channel, daily_key=daily_key)
        raise
    return _Admission(history=history, daily_key=daily_key)


@db_phase
def _release(*, channel: Channel, daily_key: str) -> None:
    credit_release(channel_id=channel.pk)
    limits.daily_release(daily_key)


@db_phase
def _record(*, channel, session_id, message, received_at, completion, daily_key) -> None:
    try:
        with transaction.atomic():
            session = _thread_for_write(channel=channel, session_id=session_id, now=received_at)
            Message.objects.bulk_create(
                [
                    Message(session=session, role=Message.Role.USER, content=message, created_at=received_at),
                    Message(
                        session=session,
                        role=Message.Role.ASSISTANT,
                        content=completion.text,
                        created_at=timezone.now(),
                        model=completion.model,
                        prompt_tokens=completion.prompt_tokens,
                        completion_tokens=completion.completion_tokens,
                        latency_ms=completion.latency_ms,
                    ),
                ]
            )
    except BaseException:
        logger.exception("Could not store a chat for channel %s; its credit is given back", channel.public_id)
        _release.sync(channel=channel, daily_key=daily_key)
        raise


def _thread_for_write(*, channel: Channel, session_id: str, now: datetime) -> Session:
    """The session's current thread, locked, or a new one when there is none or the latest expired.

    The row lock makes concurrent chats on one session store their exchanges
    one after the other, so each user message sits next to its reply.
    """
    threads = Session.objects.select_for_update().filter(channel=channel, session_id=session_id)
    latest = threads.order_by("-thread").first()
    if latest is not None and latest.expires_at > now:
        return latest
    thread = latest.thread + 1 if latest else 1
    try:
        with transaction.atomic():
            return Session.objects.create(
                channel=channel,
                session_id=session_id,
                thread=thread,
                started_at=now,
                expires_at=now + timedelta(hours=settings.SESSION_TTL_HOURS),
            )
    except IntegrityError:  # a concurrent first message created this thread first
        return threads.get(thread=thread)


@db_phase
def history_get(*, api_key: ApiKey, session_id: str) -> list[dict]:
    channel = api_key.channel
    limits.minute_check(channel, "history")
    return [m.to_dict() for m in selectors.thread_messages(channel=channel, session_id=session_id, now=timezone.now())]


@db_phase
def failed_request_record(*, channel: Channel, endpoint: str, status: int, error: str) -> None:
    FailedRequest.objects.create(channel=channel, endpoint=endpoint, status=status, error=error[:200])
