"""The store and counter implementations a contract test runs against: every one that can run here.

The ORM store and the in-process counters run everywhere; the PostgreSQL store
needs DATABASE_URL on PostgreSQL, the Redis counters REDIS_URL (CI runs the
suite on both setups, so every implementation is covered by the same tests).
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

from conversations.engine.counters.in_process import InProcessCounters
from conversations.engine.counters.redis_lua import RedisCounters
from conversations.engine.store.orm import OrmStore
from conversations.engine.store.postgresql import PostgreSQLStore
from gateway.infra import adb

STORES = [
    pytest.param(OrmStore, id="orm"),
    pytest.param(PostgreSQLStore, id="postgresql", marks=pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the PostgreSQL store needs DATABASE_URL on PostgreSQL")),
]
COUNTERS = [
    pytest.param(InProcessCounters, id="in-process", marks=pytest.mark.skipif(
        bool(settings.REDIS_URL), reason="the in-process counters are for the in-process cache (no REDIS_URL)")),
    pytest.param(RedisCounters, id="redis", marks=pytest.mark.skipif(
        not settings.REDIS_URL, reason="the Redis counters need REDIS_URL")),
]
SETTING = {OrmStore: "conversations.engine.store.orm.OrmStore", PostgreSQLStore: "conversations.engine.store.postgresql.PostgreSQLStore",
           InProcessCounters: "conversations.engine.counters.in_process.InProcessCounters",
           RedisCounters: "conversations.engine.counters.redis_lua.RedisCounters"}


def run(coro):
    """Run `coro` on a new event loop in its own thread (whatever loop the test's thread may have), closing the
    loop's database pool, Redis client and provider session after it."""
    from channels_app.providers.provider import close_sessions

    async def main():
        try:
            return await coro
        finally:
            await adb.close()
            await close_sessions()

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, main()).result()
