"""With Redis, the gateway keeps one connection pool per process instead of one per request."""

import pytest
import redis
from django.conf import settings

from gateway.testing.api import chat


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_chats_reuse_the_processes_redis_connections(api, llm, key):
    server = redis.Redis.from_url(settings.REDIS_URL)
    chat(api, key, session_id="warm-up")
    before = server.info("clients")["connected_clients"]
    for i in range(20):
        assert chat(api, key, session_id=f"s{i}").status_code == 200
    after = server.info("clients")["connected_clients"]
    assert after - before <= 2, (before, after)
