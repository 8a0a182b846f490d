"""PostgreSQL and Redis straight from the event loop: the connections of the chat's single statements.

The chat's store steps are one statement each on PostgreSQL
(conversations/engine/store/postgresql.py) and its limits one Lua call in Redis
(conversations/engine/counters/redis_lua.py), so they need no ORM and no transaction
management: they run on psycopg's async pool and redis-py's asyncio client
kept here, with no thread hand-off. Everything else keeps the threaded
database phases of gateway/infra/db.py.

Both clients belong to the event loop that made them (one of each per loop and
process); the ASGI lifespan shutdown closes them. Callers gate their calls with
the same per-loop semaphore as threaded phases (gateway/infra/db.py phase_gate), so a
burst waits on the event loop, and each takes a pooled connection only for its
own round trip.
"""

import asyncio
import select
import weakref

from django.conf import settings
from django.core.cache import caches
from django.db import connection

_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object]" = weakref.WeakKeyDictionary()
_redis: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object]" = weakref.WeakKeyDictionary()
_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = weakref.WeakKeyDictionary()


async def _pool():
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is not None:
        return pool
    async with _locks.setdefault(loop, asyncio.Lock()):
        pool = _pools.get(loop)
        if pool is None:
            from psycopg_pool import AsyncConnectionPool

            params = connection.get_connection_params()  # Django's, so both pools connect alike
            params.pop("cursor_factory", None)  # Django's is for sync connections
            params["autocommit"] = True  # each statement commits on its own, as Django's autocommit
            # Django's params say never prepare (prepare_threshold None); the chat's few fixed statements are
            # what preparing is for: PostgreSQL plans each once per connection instead of once per chat.
            params["prepare_threshold"] = settings.DATABASE_PREPARE_THRESHOLD
            pool = AsyncConnectionPool(
                kwargs=params,
                min_size=1,
                max_size=settings.DB_PHASE_CONCURRENCY,
                timeout=settings.DATABASE_POOL_TIMEOUT,
                check=check_idle_connection,  # a restarted server's dead connections are replaced
                open=False,
            )
            await pool.open()
            _pools[loop] = pool
    return pool


async def check_idle_connection(conn) -> None:
    """Raise if a pooled connection the pool is about to lend is dead: the pool then replaces it.

    psycopg_pool's `check_connection` proves it with a round trip (an empty
    query) before every checkout: two extra round trips per chat. Here the
    round trip is made only when something arrived on the idle connection's
    socket: nothing should, unless the server closed it (a restart, a
    terminated backend: PostgreSQL sends its FATAL message, then closes) or
    sent an asynchronous notice. A live, silent connection is lent at once.
    gateway/tests/test_postgres_reconnect.py holds the recovery to it;
    docs/performance.md has the measurement.
    """
    from psycopg import pq
    from psycopg_pool import AsyncConnectionPool

    pgconn = conn.pgconn
    if pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status == pq.TransactionStatus.IDLE:
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError):
            readable = True
        if not readable:
            return
    await AsyncConnectionPool.check_connection(conn)


async def to_the_end(coro):
    """Await `coro` to its end even if the awaiting task is cancelled meanwhile, and return its result.

    A statement or counter call that was sent may have taken a credit or a
    slot: like a threaded phase (asgiref waits for its thread the same way),
    it finishes, and the chat goes on to store or give back what it took.
    """
    task = asyncio.ensure_future(coro)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        return await task


async def fetchall(sql: str, params: dict) -> list[tuple]:
    return await to_the_end(_fetchall(sql, params))


async def execute(sql: str, params: dict) -> None:
    await to_the_end(_execute(sql, params))


async def _fetchall(sql: str, params: dict) -> list[tuple]:
    async with (await _pool()).connection() as conn:
        cursor = await conn.execute(sql, params)
        return await cursor.fetchall()


async def _execute(sql: str, params: dict) -> None:
    async with (await _pool()).connection() as conn:
        await conn.execute(sql, params)


def redis_client():
    """This loop's asyncio Redis client, configured like the cache's (same server, same timeouts).

    A pooled connection that died with a Redis restart fails its next command
    with a ConnectionError (the asyncio pool does not notice a peer's close
    before use, as the sync one does): that command is sent once more on a new
    connection. Only ConnectionError, never a timeout, where the server may
    have run the command. Without this the first chat after a Redis restart
    would get a 503 (gateway/tests/test_redis_down.py).
    """
    loop = asyncio.get_running_loop()
    client = _redis.get(loop)
    if client is None:
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        backend = caches["default"]  # a SharedRedisCache (gateway/infra/cache.py): the Redis counters run with Redis only
        options = backend.options
        client = redis.asyncio.Redis.from_url(
            backend.first_server_url(),
            socket_connect_timeout=options.get("socket_connect_timeout"),
            socket_timeout=options.get("socket_timeout"),
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        _redis[loop] = client
    return client


async def close() -> None:
    """Close this loop's pool and Redis client (at server shutdown)."""
    loop = asyncio.get_running_loop()
    pool, client = _pools.pop(loop, None), _redis.pop(loop, None)
    if pool is not None:
        await pool.close()
    if client is not None:
        await client.aclose()
