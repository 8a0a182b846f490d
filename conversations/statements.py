"""The chat path's two database phases, each one statement (one round trip, one commit) on PostgreSQL.

On other databases (SQLite for development) the same work runs through the
ORM in a transaction; both are tested (CI runs the suite on each). Every
statement is scoped to one channel and one namespace (`source`: "api" for
secret keys, "widget" for publishable keys; conversations/widget_sessions.py).

- `hold_and_history`: take one credit (a conditional UPDATE, so concurrent
  chats never overspend) and read the current thread's recent messages.
- `store_exchange`: find or start the session's thread, locking its row so
  concurrent chats on one session store their exchanges one after the other
  (each user message next to its reply), insert the message and its reply in
  one INSERT, and store the Idempotency-Key's answer in the same transaction.
"""

import json
from datetime import datetime

from django.db import IntegrityError, connection, transaction

from channels_app.services import CREDIT_HOLD_SQL, credit_hold
from conversations import idempotency, selectors, threads
from conversations.models import Message, Session
from conversations.provider import Completion
from gateway import adb

# The credit hold is channels_app.services' (CREDIT_HOLD_SQL, credit_hold's statement); the history is the live
# thread's (conversations/threads.py).
_HOLD_AND_HISTORY = f"""
WITH held AS (
    {CREDIT_HOLD_SQL}
)
SELECT (SELECT count(*) FROM held), recent.role, recent.content
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT m.id, m.role, m.content
    FROM conversations_message m JOIN conversations_session s ON s.id = m.session_id
    WHERE s.channel_id = %(channel)s AND s.source = %(source)s AND s.session_id = %(session)s
      AND s.expires_at > %(now)s
    ORDER BY m.id DESC
    LIMIT %(limit)s
) AS recent ON true
ORDER BY recent.id DESC
"""

# The thread rule of conversations/threads.py (thread_for_message) in SQL: the latest thread if it
# is live, else the next one; ON CONFLICT both
# settles two first messages racing to start it and takes the row lock.
_STORE_EXCHANGE = """
WITH latest AS (
    SELECT thread, expires_at FROM conversations_session
    WHERE channel_id = %(channel)s AND source = %(source)s AND session_id = %(session)s
    ORDER BY thread DESC LIMIT 1
), target AS (
    SELECT CASE WHEN latest.expires_at > %(received)s THEN latest.thread ELSE coalesce(latest.thread, 0) + 1 END AS thread
    FROM (SELECT 1) AS one LEFT JOIN latest ON true
), thread AS (
    INSERT INTO conversations_session (channel_id, source, session_id, thread, started_at, expires_at)
    SELECT %(channel)s, %(source)s, %(session)s, target.thread, %(received)s, %(expires)s FROM target
    ON CONFLICT (channel_id, source, session_id, thread) DO UPDATE SET thread = excluded.thread
    RETURNING id
){claim}
INSERT INTO conversations_message
    (session_id, role, content, created_at, model, prompt_tokens, completion_tokens, latency_ms)
SELECT thread.id, pair.role, pair.content, pair.created_at, pair.model, pair.prompt_tokens, pair.completion_tokens,
       pair.latency_ms
FROM thread, (VALUES
    (1, 'user', %(message)s, %(received)s::timestamptz, '', NULL::integer, NULL::integer, NULL::integer),
    (2, 'assistant', %(reply)s, %(replied)s::timestamptz, %(model)s, %(prompt_tokens)s, %(completion_tokens)s,
     %(latency_ms)s)
) AS pair (position, role, content, created_at, model, prompt_tokens, completion_tokens, latency_ms)
ORDER BY pair.position
"""
_CLAIM = """, claim AS (
    UPDATE conversations_idempotencykey SET response = %(answer)s::jsonb WHERE id = %(claim)s
)"""


def hold_and_history(*, channel_id: int, source: str, session_id: str, now: datetime) -> tuple[bool, list[tuple[str, str]]]:
    """Take one credit; (whether it was taken, the current thread's last messages as (role, content), oldest first)."""
    if connection.vendor != "postgresql":
        if not credit_hold(channel_id=channel_id):
            return False, []
        return True, selectors.thread_history(channel_id=channel_id, source=source, session_id=session_id, now=now)
    with connection.cursor() as cursor:
        cursor.execute(_HOLD_AND_HISTORY, _hold_params(channel_id, source, session_id, now))
        return _held_and_history(cursor.fetchall())


async def hold_and_history_async(*, channel_id: int, source: str, session_id: str, now: datetime) -> tuple[bool, list[tuple[str, str]]]:
    """hold_and_history from the event loop (PostgreSQL, gateway/adb.py)."""
    return _held_and_history(await adb.fetchall(_HOLD_AND_HISTORY, _hold_params(channel_id, source, session_id, now)))


def _hold_params(channel_id: int, source: str, session_id: str, now: datetime) -> dict:
    return {"channel": channel_id, "source": source, "session": session_id, "now": now, "limit": selectors.HISTORY_LOAD_LIMIT}


def _held_and_history(rows: list[tuple]) -> tuple[bool, list[tuple[str, str]]]:
    return rows[0][0] == 1, [(role, content) for _, role, content in reversed(rows) if role is not None]


def store_exchange(
    *,
    channel_id: int,
    source: str,
    session_id: str,
    message: str,
    received_at: datetime,
    completion: Completion,
    replied_at: datetime,
    idempotency_claim: int | None = None,
    answer: dict | None = None,
) -> None:
    """Store the user's message and the provider's reply in the session's current thread."""
    if connection.vendor != "postgresql":
        expires_at = threads.expires_at_for(received_at)
        reply = Message(
            role=Message.Role.ASSISTANT,
            content=completion.text,
            created_at=replied_at,
            model=completion.model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_ms=completion.latency_ms,
        )
        _store_exchange_orm(channel_id, source, session_id, message, received_at, expires_at, reply, idempotency_claim, answer)
        return
    with connection.cursor() as cursor:
        cursor.execute(*_store_statement(channel_id, source, session_id, message, received_at, completion, replied_at, idempotency_claim, answer))


async def store_exchange_async(
    *,
    channel_id: int,
    source: str,
    session_id: str,
    message: str,
    received_at: datetime,
    completion: Completion,
    replied_at: datetime,
    idempotency_claim: int | None = None,
    answer: dict | None = None,
) -> None:
    """store_exchange from the event loop (PostgreSQL, gateway/adb.py)."""
    await adb.execute(*_store_statement(channel_id, source, session_id, message, received_at, completion, replied_at, idempotency_claim, answer))


def _store_statement(channel_id, source, session_id, message, received_at, completion, replied_at, idempotency_claim, answer):
    params = {
        "channel": channel_id,
        "source": source,
        "session": session_id,
        "received": received_at,
        "expires": threads.expires_at_for(received_at),
        "message": message,
        "reply": completion.text,
        "replied": replied_at,
        "model": completion.model,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "latency_ms": completion.latency_ms,
    }
    claim = ""
    if idempotency_claim is not None:
        claim = _CLAIM
        params.update(claim=idempotency_claim, answer=json.dumps(answer))
    return _STORE_EXCHANGE.format(claim=claim), params


def _store_exchange_orm(channel_id, source, session_id, message, received_at, expires_at, reply, idempotency_claim, answer):
    with transaction.atomic():
        session = _thread_for_write(channel_id, source, session_id, received_at, expires_at)
        reply.session = session
        Message.objects.bulk_create(
            [Message(session=session, role=Message.Role.USER, content=message, created_at=received_at), reply]
        )
        if idempotency_claim is not None:
            idempotency.complete(idempotency_claim, answer)


def _thread_for_write(channel_id: int, source: str, session_id: str, now: datetime, expires_at: datetime) -> Session:
    """The session's current thread, locked, or a new one when there is none or the latest expired."""
    rows = Session.objects.select_for_update().filter(channel_id=channel_id, source=source, session_id=session_id)
    latest = rows.order_by("-thread").first()
    thread, new = threads.thread_for_message(
        latest.thread if latest else None, latest.expires_at if latest else None, now
    )
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
                expires_at=expires_at,
            )
    except IntegrityError:  # a concurrent first message created this thread first
        return rows.get(thread=thread)
