import re

from django.conf import settings

from gateway.overrides.redis_clients import SharedClientsRedisCache


def shared_cache_in_use() -> bool:
    """Whether the default cache is SharedRedisCache: Redis, shared by every server process."""
    return settings.CACHES["default"]["BACKEND"] == f"{__name__}.SharedRedisCache"


class SharedRedisCache(SharedClientsRedisCache):
    """The shared cache: Django's RedisCache with one client per process and a one-trip incr (both replaced in
    gateway/overrides/redis_clients.py), telling the asyncio Redis client where to connect."""

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
