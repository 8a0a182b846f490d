"""The chat's database steps on PostgreSQL: one statement each (one round trip, one commit), from the event loop.

Sent on the loop's psycopg async pool (gateway/infra/adb.py), no thread hand-off;
each waits for the loop's phase gate (gateway/infra/db.py) and holds a pooled
connection only for its own round trip. A statement that was sent finishes
even if the chat is cancelled meanwhile (adb.to_the_end): a credit it took is
then stored or given back, never lost.

- hold_and_history: CREDIT_HOLD_CTES and the hold's token (CREDIT_HOLD_TOKEN,
  channels_app/services.py) and the live thread's last messages, in one
  statement, committed without waiting for its WAL flush.
- store_exchange and release act only on the hold's token they delete, so a
  hold a crash-restart lost is neither stored nor given back.
- store_exchange: find or start the session's thread by the thread rule
  (conversations/engine/threads.py), taking its row lock, so concurrent chats on one
  session store their exchanges one after the other; insert the message and its
  reply in one INSERT; add the chat to the channel's usage roll-up of the day (conversations/engine/rollups.py)
  and to its activity log (conversations/engine/activity.py); and store the Idempotency-Key's answer in the same
  statement.
"""

import json
from datetime import datetime

from channels_app.models import CreditHold
from channels_app.services import (
    CREDIT_HOLD_CTES,
    CREDIT_HOLD_TOKEN,
    CREDIT_HOLD_TOKEN_COLUMNS,
    CREDIT_RELEASE_ORGANISATION_SQL,
    CREDIT_RELEASE_SQL,
    CREDIT_RELEASE_TOKEN_SQL,
    HELD_FROM_CHANNEL,
    HELD_FROM_ORGANISATION,
    KEY_CREDIT_RELEASE_SQL,
    credit_hold_params,
)
from conversations.engine import activity, rollups, selectors, threads
from conversations.engine.store import ChatStore, Exchange, Held
from gateway.infra import adb
from gateway.infra.db import phase_gate

# Takes the credit and its token (CREDIT_HOLD_TOKEN) and commits without waiting for its WAL flush: the credit
# row it locked is free a flush sooner for the channel's next chat. Safe only with the token: the store and the
# release act only on a token they delete, so a hold a crash-restart lost is neither stored nor given back
# (channels_app/services.py; docs/performance.md, "The busy single channel").
HOLD_AND_HISTORY = f"""
WITH {CREDIT_HOLD_CTES}{CREDIT_HOLD_TOKEN}
SELECT (SELECT count(*) FROM held), (SELECT bool_or(organisation) FROM held), (SELECT count(*) FROM key_spent),
       {CREDIT_HOLD_TOKEN_COLUMNS}, recent.role, recent.content
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

# The thread rule of conversations/engine/threads.py (thread_for_message) in SQL: the latest thread if it
# is live, else the next one; ON CONFLICT both settles two first messages racing to start it and
# takes the row lock. Every write is under {guard}: with a hold token, that this statement deleted it (TOKEN), so
# a chat whose hold a crash lost stores nothing and returns no row. Its synchronous commit flushes WAL up to
# itself, and so the hold it depended on (an earlier commit) with it.
STORE_EXCHANGE = """
WITH {token}latest AS (
    SELECT thread, expires_at FROM conversations_session
    WHERE channel_id = %(channel)s AND source = %(source)s AND session_id = %(session)s
    ORDER BY thread DESC LIMIT 1
), target AS (
    SELECT CASE WHEN latest.expires_at > %(received)s THEN latest.thread ELSE coalesce(latest.thread, 0) + 1 END AS thread
    FROM (SELECT 1) AS one LEFT JOIN latest ON true
), thread AS (
    INSERT INTO conversations_session
        (channel_id, source, session_id, thread, started_at, expires_at, page_url, page_title, first_message)
    SELECT %(channel)s, %(source)s, %(session)s, target.thread, %(received)s, %(expires)s, %(page_url)s, %(page_title)s,
           %(message)s
    FROM target
    WHERE {guard}
    ON CONFLICT (channel_id, source, session_id, thread) DO UPDATE SET thread = excluded.thread,
        page_url = CASE WHEN %(page_url)s <> '' OR %(page_title)s <> '' THEN %(page_url)s ELSE conversations_session.page_url END,
        page_title = CASE WHEN %(page_url)s <> '' OR %(page_title)s <> '' THEN %(page_title)s ELSE conversations_session.page_title END
    RETURNING id
), usage AS ({usage}
), latency AS ({latency}
){activity}{claim}
INSERT INTO conversations_message
    (session_id, role, content, created_at, model, prompt_tokens, completion_tokens, latency_ms, tokens_estimated, cost)
SELECT thread.id, pair.role, pair.content, pair.created_at, pair.model, pair.prompt_tokens, pair.completion_tokens,
       pair.latency_ms, pair.tokens_estimated, pair.cost
FROM thread, (VALUES
    (1, 'user', %(message)s, %(received)s::timestamptz, '', NULL::integer, NULL::integer, NULL::integer, false,
     NULL::numeric),
    (2, 'assistant', %(reply)s, %(replied)s::timestamptz, %(model)s, %(prompt_tokens)s, %(completion_tokens)s,
     %(latency_ms)s, %(estimated)s, %(cost)s::numeric)
) AS pair (position, role, content, created_at, model, prompt_tokens, completion_tokens, latency_ms, tokens_estimated,
           cost)
ORDER BY pair.position
RETURNING 1
"""
TOKEN = f"""token AS (DELETE FROM {CreditHold._meta.db_table} WHERE id = %(token)s RETURNING id), """
GUARDED = "EXISTS (SELECT 1 FROM token)"
ACTIVITY = """, activity AS ({answered})"""
CLAIM = """, claim AS (
    UPDATE conversations_idempotencykey SET response = %(answer)s::jsonb WHERE id = %(claim)s AND {guard}
)"""


class PostgreSQLStore(ChatStore):
    async def hold_and_history(
        self, *, channel_id: int, source: str, session_id: str, now: datetime, key_id: int | None = None,
        capped: bool = False,
    ) -> Held:
        params = {"source": source, "session": session_id, "now": now, "limit": selectors.HISTORY_LOAD_LIMIT}
        params |= credit_hold_params(channel_id=channel_id, key_id=key_id, capped=capped)
        async with phase_gate():
            rows = await adb.fetchall(HOLD_AND_HISTORY, params)
        held, key_spent, token = rows[0][0] == 1, rows[0][2] == 1, rows[0][3]
        if key_spent and not held:  # the key had room, the channel no credit: the cap gives it back at once
            async with phase_gate():
                await adb.execute(KEY_CREDIT_RELEASE_SQL, {"key": key_id})
        history = [(role, content) for *_, role, content in reversed(rows) if role is not None]
        return Held(
            held, history, HELD_FROM_ORGANISATION if rows[0][1] else HELD_FROM_CHANNEL, key_spent and held, token
        )

    async def store_exchange(self, exchange: Exchange) -> bool:
        async with phase_gate():
            return bool(await adb.fetchall(*store_statement(exchange)))

    async def release(
        self, *, channel_id: int, held_from: str = HELD_FROM_CHANNEL, key_id: int | None = None, token: int | None = None
    ) -> None:
        if token is not None:  # the token says where the credit was taken, and gives it back only if it is there
            async with phase_gate():
                await adb.execute(CREDIT_RELEASE_TOKEN_SQL, {"token": token})
            return
        statement = CREDIT_RELEASE_ORGANISATION_SQL if held_from == HELD_FROM_ORGANISATION else CREDIT_RELEASE_SQL
        async with phase_gate():
            await adb.execute(statement, {"channel": channel_id})
        if key_id is not None:
            async with phase_gate():
                await adb.execute(KEY_CREDIT_RELEASE_SQL, {"key": key_id})


def store_statement(x: Exchange) -> tuple[str, dict]:
    """STORE_EXCHANGE and its parameters for `x`: it returns rows when it stored (none: `x.hold_token` was gone)."""
    params = {
        "channel": x.channel_id,
        "source": x.source,
        "session": x.session_id,
        "received": x.received_at,
        "expires": threads.expires_at_for(x.received_at),
        "message": x.message,
        "reply": x.completion.transcript,
        "replied": x.replied_at,
        "model": x.completion.model,
        "prompt_tokens": x.completion.prompt_tokens,
        "completion_tokens": x.completion.completion_tokens,
        "latency_ms": x.completion.latency_ms,
        "estimated": x.completion.tokens_estimated,
        "cost": x.cost,
        "page_url": x.page_url,
        "page_title": x.page_title,
    }
    token, guard = "", "true"
    if x.hold_token is not None:
        token, guard = TOKEN, GUARDED
        params["token"] = x.hold_token
    claim = ""
    if x.idempotency_claim is not None:
        claim = CLAIM
        params.update(claim=x.idempotency_claim, answer=json.dumps(x.answer))
    params.update(rollups.answered_params(
        channel_id=x.channel_id, replied_at=x.replied_at, prompt_tokens=x.completion.prompt_tokens,
        completion_tokens=x.completion.completion_tokens, cost=x.cost, latency_ms=x.completion.latency_ms,
    ))
    recorded = ""
    if x.activity is not None:
        recorded = ACTIVITY
        params.update(activity.answered_params(
            facts=x.activity, received_at=x.received_at, replied_at=x.replied_at, error=x.activity_error
        ))
    statement = STORE_EXCHANGE.format(
        token=token, guard=guard, claim=claim.format(guard=guard),
        activity=recorded.format(answered=activity.ANSWERED_INSERT_IF.format(guard=guard)),
        usage=rollups.USAGE_UPSERT_IF.format(guard=guard), latency=rollups.LATENCY_UPSERT_IF.format(guard=guard),
    )
    return statement, params
