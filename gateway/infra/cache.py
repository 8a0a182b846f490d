import re

from django.conf import settings

from gateway.overrides.redis_clients import SharedClientsRedisCache


def shared_cache_in_use() -> bool:
    """Whether the default cache is SharedRedisCache: Redis, shared by every server process."""
    return settings.CACHES["default"]["BACKEND"] == f"{__name__}.SharedRedisCache"

# Django's incr is EXISTS then INCRBY: two round trips on every limit check.
_INCR_IF_EXISTS = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) end return false"
_scripts: dict[str, object] = {}


class SharedRedisCache(SharedClientsRedisCache):
    """Django's RedisCache with one client per process (gateway/overrides/redis_clients.py) and a one-trip incr."""

    def __init__(self, server, params):
        super().__init__(server, params)
        # LOCATION and OPTIONS as given in CACHES, kept as given (this runs per request context), for
        # gateway/infra/adb.py's asyncio client (the Redis counters) to connect alike without reading the backend's
        # private attributes.
        self.location = server
        self.options: dict = params.get("OPTIONS", {})

    def first_server_url(self) -> str:
        """The first server in LOCATION (split as RedisCache splits it): the one a single-server setup names."""
        return re.split("[;,]", self.location)[0] if isinstance(self.location, str) else self.location[0]

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
