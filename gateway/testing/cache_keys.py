"""Emptying the cache of this test process only.

With Redis, `cache.clear()` is FLUSHDB: it would also empty the keys of the
other test processes (pytest-xdist's workers) that share the Redis database,
each under its own CACHE_KEY_PREFIX (gateway/settings_test.py).
"""

from django.core.cache import cache

from gateway.infra.cache import shared_cache_in_use


def clear_own_keys() -> None:
    if not shared_cache_in_use():
        cache.clear()  # the in-process cache is this process's alone
        return
    import redis

    client = redis.Redis.from_url(cache.first_server_url())
    try:
        for key in client.scan_iter(match=cache.make_key("*"), count=1000):
            client.delete(key)
    finally:
        client.close()
