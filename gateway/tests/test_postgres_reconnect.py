"""PostgreSQL drops every connection under load (as a restart or failover does): the gateway recovers by itself.

The shared server is never restarted; instead every backend connected to a
dedicated database is killed with pg_terminate_backend while chats run, which
is what a restart looks like to the gateway's connection pool.
"""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings

from gateway.testing import loopback
from gateway.testing.api import UPSTREAM_KEY
from gateway.testing.processes import GatewayProcess, PostgresDatabase, create_channels, gateway_env

pytestmark = [pytest.mark.processes, pytest.mark.postgres]


@pytest.fixture(scope="module", params=["threads", "event-loop"])
def gateway(request, tmp_path_factory, fake_llm_server):
    """The ORM store on the database phase threads (CHAT_STORE=orm, no Redis), or the PostgreSQL store's statements
    and the Redis counters on the event loop (gateway/infra/adb.py)."""
    if request.param == "event-loop" and not settings.REDIS_URL:
        pytest.skip("the event-loop chat path needs Redis (REDIS_URL)")
    redis_url = settings.REDIS_URL if request.param == "event-loop" else ""
    database = PostgresDatabase.beside(settings.DATABASES["default"], f"gw_reconnect_{os.getpid()}")
    env = gateway_env(
        REDIS_URL=redis_url, CACHE_KEY_PREFIX=f"gwreconnect{os.getpid()}",
        CHAT_STORE="orm" if request.param == "threads" else "postgresql",
        LLM_BASE_URL=f"{fake_llm_server.url}/v1", LLM_API_KEY=UPSTREAM_KEY,
    )
    server = None
    try:
        database.create(env)
        env["DATABASE_URL"] = database.url
        [channel] = create_channels(env, {"credits": 10_000, "rate_limit_per_minute": 100_000, "daily_limit": 100_000})
        server = GatewayProcess(env, log_path=tmp_path_factory.mktemp("reconnect") / "gateway.log").start()
        yield server, database, channel
    finally:
        if server is not None:
            server.stop()
        database.drop()


@pytest.fixture
def llm(fake_llm_server):
    fake_llm_server.app.reset()
    yield fake_llm_server.app
    fake_llm_server.app.reset()


def chat(url: str, key: str, message: str) -> httpx.Response:
    return loopback.post(url + "/api/chat", json={"message": message, "session_id": message},
                         headers={"X-API-Key": key}, timeout=30)


class Ledger:
    """Credits spent and messages stored since it was opened."""

    def __init__(self, database, channel):
        self.database, self.channel = database, channel
        self.start = self._now()

    def _now(self) -> tuple[int, int]:
        [(credits,)] = self.database.query("SELECT credits FROM channels_app_channel WHERE id = %s", (self.channel["id"],))
        [(messages,)] = self.database.query("SELECT COUNT(*) FROM conversations_message")
        return credits, messages

    def spent_and_stored(self) -> tuple[int, int]:
        credits, messages = self._now()
        return self.start[0] - credits, messages - self.start[1]


def test_idle_pooled_connections_killed_by_the_server_are_never_handed_to_a_request(gateway, llm):
    server, database, channel = gateway
    ledger = Ledger(database, channel)
    assert [chat(server.url, channel["key"], f"warm {i}").status_code for i in range(5)] == [200] * 5
    assert database.terminate_backends() >= 1  # the pool's idle connections

    started = time.monotonic()
    assert chat(server.url, channel["key"], "first after").status_code == 200
    # The pool checks each connection before lending it and backs off (1 s, 2 s, ...)
    # between dead ones: the first request waits, but well inside the pool's 10 s timeout.
    assert time.monotonic() - started < 8
    assert [chat(server.url, channel["key"], f"after {i}").status_code for i in range(10)] == [200] * 10
    assert ledger.spent_and_stored() == (16, 32)


def test_chats_recover_after_connections_are_killed_under_load_and_nothing_is_lost(gateway, llm):
    server, database, channel = gateway
    ledger = Ledger(database, channel)
    llm.latency = 0.05
    stop = threading.Event()
    results: list[httpx.Response] = []

    def keep_chatting(worker: int) -> None:
        i = 0
        while not stop.is_set():
            results.append(chat(server.url, channel["key"], f"w{worker}-{i}"))
            i += 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        for worker in range(8):
            pool.submit(keep_chatting, worker)
        killed = 0
        for _ in range(4):
            time.sleep(0.5)
            killed += database.terminate_backends()
        time.sleep(0.5)
        stop.set()
    assert killed >= 4

    # Killed mid-query, a chat may fail, but only with the API's 500 and nothing half-done.
    assert {r.status_code for r in results} <= {200, 500}
    assert all(r.json() == {"error": "Internal server error"} for r in results if r.status_code == 500)
    ok = sum(1 for r in results if r.status_code == 200)
    assert ok > len(results) / 2, [r.status_code for r in results]

    # Every reply given was stored whole; none was stored without being answered.
    spent, stored = ledger.spent_and_stored()
    assert stored == 2 * ok
    # Every reply was paid for. A chat whose connection died just as its credit was
    # taken or given back can lose that credit (the database may have committed a
    # change whose acknowledgement never arrived): at most one per failed chat.
    failed = len(results) - ok
    assert ok <= spent <= ok + failed

    # Afterwards every chat succeeds, and is counted exactly: no restart needed.
    before = ledger.spent_and_stored()
    assert [chat(server.url, channel["key"], f"after {i}").status_code for i in range(10)] == [200] * 10
    after = ledger.spent_and_stored()
    assert (after[0] - before[0], after[1] - before[1]) == (10, 20)
