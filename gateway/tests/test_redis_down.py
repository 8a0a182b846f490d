"""Redis dies and comes back: limits fail closed with a 503, nothing is stored or spent, service resumes by itself.

A private redis-server on its own port is killed and restarted; the machine's
shared Redis is never touched. The gateway runs in its own process, as in production.
"""

import sqlite3
import time

import pytest

from gateway.testing import loopback
from gateway.testing.api import UPSTREAM_KEY, chat, chat_stream, history
from gateway.testing.processes import GatewayProcess, RedisServer, create_channels, gateway_env, sqlite_database

pytestmark = [pytest.mark.processes, pytest.mark.standalone, pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server")]

UNAVAILABLE = {"error": "Service temporarily unavailable. Please try again."}


@pytest.fixture
def redis():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def setup(tmp_path, redis, fake_llm_server):
    fake_llm_server.app.reset()
    database_url = sqlite_database(tmp_path)
    env = gateway_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis.url,
        CACHE_KEY_PREFIX="gwredisdown",
        LLM_BASE_URL=f"{fake_llm_server.url}/v1",
        LLM_API_KEY=UPSTREAM_KEY,
    )
    [channel] = create_channels(env, {"credits": 10})
    gateway = GatewayProcess(env, log_path=tmp_path / "gateway.log").start()
    with loopback.Client(base_url=gateway.url, timeout=30) as client:
        yield client, channel, database_url.removeprefix("sqlite:///"), gateway
    gateway.stop()


def stored(db_path: str, channel_id: int) -> tuple[int, int]:
    """(credits left, messages stored) for the channel, read straight from the gateway's database."""
    with sqlite3.connect(db_path) as db:
        credits = db.execute("SELECT credits FROM channels_app_channel WHERE id = ?", (channel_id,)).fetchone()[0]
        messages = db.execute(
            "SELECT COUNT(*) FROM conversations_message m JOIN conversations_session s ON m.session_id = s.id "
            "WHERE s.channel_id = ?", (channel_id,)
        ).fetchone()[0]
    return credits, messages


def test_without_redis_the_api_answers_503_and_spends_nothing_then_recovers(setup, redis, fake_llm_server):
    client, channel, db_path, gateway = setup
    key = channel["key"]
    assert chat(client, key).status_code == 200
    assert stored(db_path, channel["id"]) == (9, 2)

    redis.stop()
    for attempt in range(3):
        started = time.monotonic()
        r = chat(client, key, f"while redis is down {attempt}")
        assert time.monotonic() - started < 3  # fails fast, does not hang on the dead cache
        assert (r.status_code, r.json()) == (503, UNAVAILABLE)
        assert int(r.headers["Retry-After"]) > 0
    response, events = chat_stream(client, key, "a stream while redis is down")
    assert (response.status_code, response.json(), events) == (503, UNAVAILABLE, None)
    assert (history(client, key).status_code, history(client, key).json()) == (503, UNAVAILABLE)
    health = client.get("/healthz")
    assert (health.status_code, health.json()) == (503, {"status": "error", "database": "ok", "cache": "error"})

    assert stored(db_path, channel["id"]) == (9, 2)  # nothing stored, nothing charged
    assert len(fake_llm_server.app.requests) == 1  # and the provider was never called

    redis.start()  # same port, empty (no persistence)
    r = chat(client, key, "back again")  # the very first request after the restart
    assert r.status_code == 200, r.text
    assert client.get("/healthz").json()["status"] == "ok"
    assert stored(db_path, channel["id"]) == (8, 4)
    assert [m["content"] for m in history(client, key).json()["messages"]] == [
        "Hello!", "Echo: Hello!", "back again", "Echo: back again"
    ]
    assert key not in gateway.log and UPSTREAM_KEY not in gateway.log


def test_a_redis_restart_between_requests_goes_unnoticed(setup, redis):
    client, channel, db_path, _ = setup
    assert [chat(client, channel["key"]).status_code for _ in range(3)] == [200, 200, 200]
    redis.stop()
    redis.start()  # the gateway's pooled connections to the old server are now dead
    assert [chat(client, channel["key"]).status_code for _ in range(3)] == [200, 200, 200]
    assert stored(db_path, channel["id"]) == (4, 12)
