"""The busy channel's two statements alone, no HTTP: N concurrent chats of one channel, each a new session,
each running HOLD_AND_HISTORY then STORE_EXCHANGE (store_statement) of the tree it runs in, on a pool of
16 connections (2 workers x DB_PHASE_CONCURRENCY 8). Prints chats/s and the share of sampled backends
waiting on a row lock.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a migrated database> DJANGO_SETTINGS_MODULE=gateway.settings_test \
        .venv/bin/python -m bench.statements <seconds> <concurrency> [setup | store]

`setup` only makes the channel; `store` runs STORE_EXCHANGE alone. SHARDS=<n> overrides USAGE_SHARDS. Run it from
two checkouts (each on its own migrated database) in alternating rounds to compare two versions of the statements
(docs/performance.md, "The busy single channel").
"""

import asyncio
import os
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import django

django.setup()
from django.conf import settings as _settings  # noqa: E402

if os.environ.get("SHARDS"):
    _settings.USAGE_SHARDS = int(os.environ["SHARDS"])

import psycopg  # noqa: E402
from psycopg_pool import AsyncConnectionPool  # noqa: E402

from channels_app.providers.provider import Completion  # noqa: E402
from conversations.engine.selectors import HISTORY_LOAD_LIMIT  # noqa: E402
from conversations.engine.store import Exchange  # noqa: E402
from conversations.engine.store.postgresql import HOLD_AND_HISTORY, store_statement  # noqa: E402

URL = os.environ["DATABASE_URL"]
STORE_ONLY = len(sys.argv) > 3 and sys.argv[3] == "store"  # STORE_EXCHANGE alone, without the credit hold
DB = URL.rsplit("/", 1)[1]


def setup() -> int:
    from channels_app.models import Channel
    from channels_app.services import channel_create, owner_get_or_create

    channel = Channel.objects.filter(name="dbbench").first()
    if channel is None:
        owner = owner_get_or_create(email="dbbench@example.com")
        channel, _ = channel_create(owner=owner, name="dbbench", credits=10**9, rate_limit_per_minute=10**9,
                                    daily_limit=10**9, ignore_cap=True)
    return channel.pk


def guard(rows) -> dict:
    """The hold's token, on a checkout whose store keeps one, so the store does the same work as the gateway's (an
    older checkout's Exchange has no token: then nothing)."""
    if "hold_token" in Exchange.__dataclass_fields__ and not STORE_ONLY:
        return {"hold_token": rows[0][3]}
    return {}


async def main(seconds: float, concurrency: int, channel_id: int) -> None:
    pool = AsyncConnectionPool(URL, min_size=16, max_size=16, kwargs={"autocommit": True, "prepare_threshold": 5},
                               open=False)
    await pool.open()
    await pool.wait()
    done = 0
    stop = time.monotonic() + seconds
    run_id = f"{time.time():.0f}"
    waits: Counter = Counter()

    async def chatter(n: int) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < stop:
            session = f"db-{run_id}-{n}-{i}"
            i += 1
            received = datetime.now(timezone.utc)
            params = {"channel": channel_id, "source": "api", "session": session, "now": received,
                      "limit": HISTORY_LOAD_LIMIT, "key": None, "capped": False}
            if not STORE_ONLY:
                async with pool.connection() as conn:
                    rows = await (await conn.execute(HOLD_AND_HISTORY, params)).fetchall()
                assert rows[0][0] == 1
            exchange = Exchange(
                channel_id=channel_id, source="api", session_id=session, message="Hello there", received_at=received,
                completion=Completion(text="Echo: Hello there", model="m", prompt_tokens=12, completion_tokens=5,
                                      latency_ms=1),
                replied_at=datetime.now(timezone.utc), cost=Decimal("0.0001"), **guard(rows),
            )
            async with pool.connection() as conn:
                await conn.execute(*store_statement(exchange))
            done += 1

    async def sampler() -> None:
        async with await psycopg.AsyncConnection.connect(URL, autocommit=True) as c:
            while time.monotonic() < stop:
                rows = await (await c.execute(
                    "SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') || CASE WHEN query LIKE '%%key_spent%%'"
                    " THEN '(hold)' WHEN query LIKE '%%latest AS%%' THEN '(store)' ELSE '(other)' END, count(*)"
                    " FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()"
                    " GROUP BY 1", (DB,))).fetchall()
                for name, n in rows:
                    waits[name] += n
                await asyncio.sleep(0.05)

    started = time.monotonic()
    await asyncio.gather(sampler(), *(chatter(n) for n in range(concurrency)))
    elapsed = time.monotonic() - started
    await pool.close()
    total = sum(waits.values()) or 1
    top = ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in waits.most_common(5))
    print(f"{done / elapsed:8.1f} chats/s  ({done} in {elapsed:.1f} s, c={concurrency})  active backends: {top}")


if __name__ == "__main__":
    channel_id = setup()
    if len(sys.argv) > 3 and sys.argv[3] == "setup":
        sys.exit(0)
    asyncio.run(main(float(sys.argv[1]), int(sys.argv[2]), channel_id))
