"""The event-loop pool's check (gateway/infra/adb.py check_idle_connection): no round trip for a live idle
connection, and a connection the server closed while it sat in the pool is never lent.

Also holds psycopg_pool to what the check relies on: it calls `check` on every checkout, and replaces a
connection whose check raised.
"""

import asyncio

import psycopg
import pytest
from django.db import connection
from psycopg_pool import AsyncConnectionPool

from gateway.infra import adb
from gateway.testing.waiting import wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def params() -> dict:
    found = connection.get_connection_params()
    found.pop("cursor_factory", None)
    return {**found, "autocommit": True}


def run(scenario):
    async def with_pool():
        checks = []

        async def counted(conn):
            checks.append(conn)
            await adb.check_idle_connection(conn)

        pool = AsyncConnectionPool(kwargs=params(), min_size=1, max_size=1, check=counted, open=False)
        await pool.open(wait=True)
        try:
            return await scenario(pool, checks)
        finally:
            await pool.close()

    return asyncio.run(with_pool())


def test_a_live_idle_connection_is_lent_without_a_round_trip(monkeypatch):
    round_trips = []
    original = AsyncConnectionPool.check_connection

    async def counting(conn):
        round_trips.append(conn)
        await original(conn)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", staticmethod(counting))

    async def scenario(pool, checks):
        pids = []
        for _ in range(3):
            async with pool.connection() as conn:
                pids.append((await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0])
        return pids, len(checks)

    pids, checks = run(scenario)
    assert checks == 3  # psycopg_pool calls the check on every checkout
    assert round_trips == []
    assert len(set(pids)) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_before_it_is_lent():
    async def scenario(pool, checks):
        async with pool.connection() as conn:
            first = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0]
            sock = conn.pgconn.socket
        with psycopg.connect(**params()) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        # The backend's goodbye reaches the idle connection's socket.
        import select

        assert await asyncio.to_thread(wait_until, lambda: bool(select.select([sock], [], [], 0)[0]))
        async with pool.connection() as conn:
            second = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0]
        return first, second

    first, second = run(scenario)
    assert second != first


def test_the_chats_statements_are_prepared_on_the_loops_connections():
    # Django never prepares (prepare_threshold None); the event-loop pool does, after psycopg's threshold, so
    # PostgreSQL plans the chat's statements once per connection (settings.DATABASE_PREPARE_THRESHOLD).
    from django.conf import settings

    async def scenario():
        try:
            for _ in range(4 * (settings.DATABASE_PREPARE_THRESHOLD + 1)):  # the pool spreads them over its connections
                assert await adb.fetchall("SELECT %(n)s::int + 1", {"n": 41}) == [(42,)]
            seen = set()
            for _ in range(4):  # each connection lists only its own prepared statements
                seen |= {row[0] for row in await adb.fetchall("SELECT statement FROM pg_prepared_statements", {})}
            return seen
        finally:
            await adb.close()

    assert settings.DATABASE_PREPARE_THRESHOLD == 5
    assert "SELECT $1::int + 1" in asyncio.run(scenario())
