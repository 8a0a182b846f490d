"""Override: `SharedClientsRedisCache`, Django's RedisCache with one client and one pool per process, and a one-trip incr.

What it replaces (Django 5.2.19, `django.core.cache.backends.redis`):

- `RedisCache._cache`, a cached property that builds a new `RedisCacheClient` for each cache
  object. Django builds a cache object per request context (`caches` is context-local under
  ASGI), so every request got a new client, a new connection pool and a new TCP connection
  (with `HELLO`/`CLIENT SETINFO`, and `importlib.metadata.version("redis")` scanning
  `sys.path`). Here one `RedisCacheClient` is kept per process for each (servers, options).
- `RedisCacheClient.get_client`, which builds a new `redis.Redis` over the pool on every call.
  redis-py clients are thread-safe views over their pool, so one per pool is kept.
- `RedisCache.incr` (through `RedisCacheClient.incr`: `EXISTS`, then `INCRBY`), replaced by one Lua
  call that increments only an existing key and otherwise answers nil, which raises the same
  `ValueError`: one round trip instead of two on every limit check.

It relies on the base classes' attributes `_servers`, `_options`, `_class` (RedisCache) and
`_get_connection_pool`, `_client` (RedisCacheClient), which the fingerprinted code below sets
and uses. A public extension point covers only part of it: OPTIONS' `pool_class` could share a
pool, but Django would still build a client wrapper per request and a `redis.Redis` per call.

Why (docs/performance.md, "Baseline" profile and "After", `5f03382`): building the client per
request was ≈ 15 % of a chat's CPU, the `redis.Redis` per call ~3 %; `5f03382` (with uvloop)
took the c=1 overhead p50 from 71.1 to 21.1 ms. gateway/tests/test_cache_shared.py checks that
requests open no new Redis connections. The one-trip incr: docs/performance.md, "After", `78e6174`
("Redis round trips": a limit check's `EXISTS` + `INCRBY` in one call).

Guarded by gateway/tests/test_overrides.py::test_framework_code_the_overrides_copy_is_unchanged
(the fingerprints below).
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

RELIES_ON = {
    "django.core.cache.backends.redis.RedisCache.__init__": "5a37530fd9c48342",
    "django.core.cache.backends.redis.RedisCache._cache": "668e103c108f2a6b",
    "django.core.cache.backends.redis.RedisCacheClient.__init__": "1a06a413b7e9024c",
    "django.core.cache.backends.redis.RedisCacheClient.get_client": "61d8e30f4240ddaa",
    "django.core.cache.backends.redis.RedisCacheClient._get_connection_pool": "dcd4f679e031e2a6",
    "django.core.cache.backends.redis.RedisCache.incr": "0fba0ea5fe12f350",
    "django.core.cache.backends.redis.RedisCacheClient.incr": "6e01224626bbbe28",
}

# Django's incr is EXISTS then INCRBY: two round trips on every limit check.
_INCR_IF_EXISTS = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) end return false"
_scripts: dict[str, object] = {}


class ReusedClients(RedisCacheClient):
    """Django's client wrapper, keeping one redis.Redis per connection pool instead of a new one per call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients_by_pool: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients_by_pool.get(id(pool))
        if client is None:
            client = self._clients_by_pool.setdefault(id(pool), self._client(connection_pool=pool))
        return client


_clients: dict[tuple, object] = {}


class SharedClientsRedisCache(RedisCache):
    """Django's RedisCache with one client (so one connection pool) per process."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClients

    @cached_property
    def _cache(self):
        key = (tuple(self._servers), tuple(sorted((k, repr(v)) for k, v in self._options.items())))
        client = _clients.get(key)
        if client is None:
            client = _clients.setdefault(key, self._class(self._servers, **self._options))
        return client

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        client = self._cache.get_client(key, write=True)
        script = _scripts.get("incr")
        if script is None:
            script = _scripts.setdefault("incr", client.register_script(_INCR_IF_EXISTS))
        value = script(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value
