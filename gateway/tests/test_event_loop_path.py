"""The event-loop chat path (gateway/infra/adb.py): with PostgreSQL and Redis, a cached key's chat uses no thread.

Correctness (credits, limits, sessions, idempotency, streams, revocation) is
covered by the API tests, which run on this path whenever their key is cached;
these check that the path is taken, that it holds no connection while waiting
upstream, and that it fails closed when Redis goes away.
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

from gateway.infra import adb
from gateway.testing import loopback
from gateway.testing.api import UPSTREAM_KEY, chat
from gateway.testing.processes import GatewayProcess, PostgresDatabase, RedisServer, create_channels, gateway_env

# The subject is the PostgreSQL store and Redis counters on the server's event loop: a server on a socket.
pytestmark = [pytest.mark.processes, pytest.mark.postgres, pytest.mark.redis, pytest.mark.live]


def requests_served(pool_stats: list[dict]) -> int:
    return sum(stats.get("requests_num", 0) for stats in pool_stats)


def async_pools() -> list[dict]:
    return [pool.get_stats() for pool in list(adb._pools.values())]


def test_a_cached_keys_chats_use_the_async_pool_and_never_the_threaded_one(quiet_process, api, llm, key):
    assert chat(api, key, "first").status_code == 200  # read from the database on a thread, now cached
    threaded, on_loop = connection.pool.get_stats().get("requests_num", 0), requests_served(async_pools())
    for i in range(3):
        assert chat(api, key, f"m{i}").status_code == 200
    assert requests_served(async_pools()) - on_loop == 6  # one statement to admit, one to store, per chat
    assert connection.pool.get_stats().get("requests_num", 0) == threaded


def test_chats_waiting_upstream_hold_no_connection_of_the_async_pool(api, llm, key):
    assert chat(api, key, "warm").status_code == 200
    llm.latency = 1.5

    def checked_out():
        return sum(s["pool_size"] - s["pool_available"] for s in async_pools())

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(chat, api, key, f"m{i}", f"s{i}") for i in range(8)]
        deadline = time.monotonic() + 10
        while len(llm.requests) < 9 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(llm.requests) == 9  # the warm-up and eight now waiting on the provider
        assert checked_out() <= 1
        assert [f.result().status_code for f in futures] == [200] * 8


@pytest.fixture
def gateway_with_its_own_redis(tmp_path, fake_llm_server):
    fake_llm_server.app.reset()
    redis = RedisServer().start()
    database = PostgresDatabase.beside(settings.DATABASES["default"], f"gw_loop_redis_{os.getpid()}")
    env = gateway_env(
        REDIS_URL=redis.url, CACHE_KEY_PREFIX="gwloop", LLM_BASE_URL=f"{fake_llm_server.url}/v1", LLM_API_KEY=UPSTREAM_KEY
    )
    gateway = None
    try:
        database.create(env)
        env["DATABASE_URL"] = database.url
        [channel] = create_channels(env, {"credits": 10})
        gateway = GatewayProcess(env, log_path=tmp_path / "gateway.log").start()
        with loopback.Client(base_url=gateway.url, timeout=30) as client:
            yield client, channel, database, redis
    finally:
        if gateway is not None:
            gateway.stop()
        redis.stop()
        database.drop()


def test_redis_gone_mid_life_is_a_503_that_spends_nothing_then_chats_resume(gateway_with_its_own_redis):
    client, channel, database, redis = gateway_with_its_own_redis

    def stored():
        [(credits,)] = database.query("SELECT credits FROM channels_app_channel WHERE id = %s", (channel["id"],))
        [(messages,)] = database.query("SELECT COUNT(*) FROM conversations_message", ())
        return credits, messages

    for i in range(2):  # the second runs on the event loop: its key is cached
        assert chat(client, channel["key"], f"warm {i}").status_code == 200
    assert stored() == (8, 4)
    redis.stop()
    r = chat(client, channel["key"], "while Redis is down")
    assert (r.status_code, r.json()) == (503, {"error": "Service temporarily unavailable. Please try again."})
    assert stored() == (8, 4)
    redis.start()
    assert chat(client, channel["key"], "after").status_code == 200
    assert stored() == (7, 6)
