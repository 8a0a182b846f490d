"""With Redis, the gateway keeps one connection pool per process instead of one per request."""

import pytest
import redis
from django.conf import settings

from gateway.testing.api import chat


@pytest.mark.redis
def test_chats_reuse_the_processes_redis_connections(api, llm, key):
    server = redis.Redis.from_url(settings.REDIS_URL)
    chat(api, key, session_id="warm-up")
    before = server.info("clients")["connected_clients"]
    for i in range(20):
        assert chat(api, key, session_id=f"s{i}").status_code == 200
    after = server.info("clients")["connected_clients"]
    assert after - before <= 2, (before, after)


@pytest.mark.redis
def test_incr_keeps_djangos_semantics(db):
    from django.core.cache import cache

    with pytest.raises(ValueError):
        cache.incr("never-set-key")
    assert cache.get("never-set-key") is None  # a failed incr creates nothing
    cache.add("counter", 5, 30)
    assert cache.incr("counter") == 6
    assert cache.decr("counter", 2) == 4
    assert 0 < redis.Redis.from_url(settings.REDIS_URL).ttl(cache.make_key("counter")) <= 30  # incr keeps the TTL
