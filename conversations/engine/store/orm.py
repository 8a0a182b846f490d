"""The chat's database steps through the ORM, on the database phase threads (gateway/infra/db.py).

For SQLite (development, `make run`) and any database Django supports. Each
step is one phase: off the event loop, at most DB_PHASE_CONCURRENCY at once,
its connection handed back when it ends.
"""

from datetime import datetime

from django.db import IntegrityError, transaction

from channels_app.services import credit_hold, credit_release
from conversations.engine import activity, idempotency, rollups, selectors, threads
from conversations.engine.store import ChatStore, Exchange, Held
from conversations.models import Message, Session
from gateway.infra.db import in_db_phase


class OrmStore(ChatStore):
    async def hold_and_history(
        self, *, channel_id: int, source: str, session_id: str, now: datetime, key_id: int | None = None,
        capped: bool = False,
    ) -> Held:
        return await in_db_phase(_hold_and_history, channel_id, source, session_id, now, key_id, capped)

    async def store_exchange(self, exchange: Exchange) -> bool:
        await in_db_phase(_store_exchange, exchange)
        return True

    async def release(
        self, *, channel_id: int, held_from: str = "channel", key_id: int | None = None, token: int | None = None
    ) -> None:
        await in_db_phase(credit_release, channel_id=channel_id, held_from=held_from, key_id=key_id)


def _hold_and_history(
    channel_id: int, source: str, session_id: str, now: datetime, key_id: int | None, capped: bool
) -> Held:
    held_from = credit_hold(channel_id=channel_id, key_id=key_id, capped=capped)
    if held_from is None:
        return Held(False, [])
    history = selectors.thread_history(channel_id=channel_id, source=source, session_id=session_id, now=now)
    return Held(True, history, held_from, bool(capped and key_id is not None))


def _store_exchange(x: Exchange) -> None:
    reply = Message(
        role=Message.Role.ASSISTANT,
        content=x.completion.transcript,
        created_at=x.replied_at,
        model=x.completion.model,
        prompt_tokens=x.completion.prompt_tokens,
        completion_tokens=x.completion.completion_tokens,
        latency_ms=x.completion.latency_ms,
        tokens_estimated=x.completion.tokens_estimated,
        cost=x.cost,
    )
    with transaction.atomic():
        session = _thread_for_write(x.channel_id, x.source, x.session_id, x.received_at, x.message)
        if (x.page_url or x.page_title) and (session.page_url, session.page_title) != (x.page_url, x.page_title):
            Session.objects.filter(pk=session.pk).update(page_url=x.page_url, page_title=x.page_title)
        reply.session = session
        Message.objects.bulk_create(
            [Message(session=session, role=Message.Role.USER, content=x.message, created_at=x.received_at), reply]
        )
        rollups.add_answered(
            channel_id=x.channel_id, replied_at=x.replied_at, prompt_tokens=x.completion.prompt_tokens,
            completion_tokens=x.completion.completion_tokens, cost=x.cost, latency_ms=x.completion.latency_ms,
        )
        if x.activity is not None:
            activity.answered_add(
                facts=x.activity, channel_id=x.channel_id, source=x.source, session_id=x.session_id,
                model=x.completion.model, prompt_tokens=x.completion.prompt_tokens,
                completion_tokens=x.completion.completion_tokens, cost=x.cost, received_at=x.received_at,
                replied_at=x.replied_at, error=x.activity_error,
            )
        if x.idempotency_claim is not None:
            idempotency.complete(x.idempotency_claim, x.answer)


def _thread_for_write(channel_id: int, source: str, session_id: str, now: datetime, message: str) -> Session:
    """The session's current thread, locked, or a new one when there is none or the latest expired."""
    rows = Session.objects.select_for_update().filter(channel_id=channel_id, source=source, session_id=session_id)
    latest = rows.order_by("-thread").first()
    thread, new = threads.thread_for_message(latest.thread if latest else None, latest.expires_at if latest else None, now)
    if not new:
        return latest
    try:
        with transaction.atomic():
            return Session.objects.create(
                channel_id=channel_id,
                source=source,
                session_id=session_id,
                thread=thread,
                started_at=now,
                expires_at=threads.expires_at_for(now),
                first_message=message,
            )
    except IntegrityError:  # a concurrent first message created this thread first
        return rows.get(thread=thread)
