import re
import weakref

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
        # gateway/adb.py's asyncio client to connect alike without reading the backend's private attributes.
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

    def count_all(self, counters: list[tuple[str, int, int, int, bool]], *, guard: tuple[str, int] | None = None) -> int:
        """Count one request against each (key, limit, ttl, share_percent, held) in order, in one atomic round trip.

        Returns 0 when every counter stayed within its limit, else the 1-based
        position of the first one over it (later ones are not counted, and the
        `held` ones up to it are given back). A counter's limit is `limit`, or
        with a share_percent, that percentage of the highest `limit` it was
        given, kept under its key + ":base" (conversations/limits.py Counter). With a `guard` (key,
        value), nothing is counted and -1 is returned unless the guard key holds
        that value: the caller read something under it that has since changed.
        """
        keys, args = self._count_all_call(counters, guard)
        client = self._cache.get_client(keys[0], write=True)
        script = _scripts.get("count_all")
        if script is None:
            script = _scripts.setdefault("count_all", client.register_script(_COUNT_ALL))
        return int(script(keys=keys, args=args, client=client))

    async def count_all_async(self, client, counters: list[tuple[str, int, int, int, bool]], *, guard=None) -> int:
        """count_all through an asyncio Redis client (gateway/adb.py) on the same server."""
        keys, args = self._count_all_call(counters, guard)
        return int(await _async_script(client, "count_all", _COUNT_ALL)(keys=keys, args=args))

    async def incr_async(self, client, key: str, delta: int = 1) -> int:
        """incr through an asyncio Redis client; ValueError when the key does not exist."""
        key = self.make_and_validate_key(key)
        value = await _async_script(client, "incr", _INCR_IF_EXISTS)(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def _count_all_call(self, counters, guard) -> tuple[list, list]:
        keys = [self.make_and_validate_key(guard[0] if guard else "guard:none")]
        args: list = [str(guard[1]) if guard else ""]
        for key, limit, ttl, share_percent, held in counters:
            keys.append(self.make_and_validate_key(key))
            args += [int(ttl), int(limit), int(share_percent), 1 if held else 0]
        return keys, args


_async_scripts: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def _async_script(client, name: str, source: str):
    scripts = _async_scripts.setdefault(client, {})
    if name not in scripts:
        scripts[name] = client.register_script(source)
    return scripts[name]


# KEYS[1] is the guard; counter j is KEYS[j+1] with its TTL in ARGV[4j-2], its limit in ARGV[4j-1],
# its share_percent in ARGV[4j] and whether it is held in ARGV[4j+1].
_COUNT_ALL = """
if ARGV[1] ~= '' and redis.call('get', KEYS[1]) ~= ARGV[1] then return -1 end
for j = 1, #KEYS - 1 do
  redis.call('set', KEYS[j + 1], 0, 'EX', ARGV[4 * j - 2], 'NX')
  local count = redis.call('incr', KEYS[j + 1])
  local limit, share = tonumber(ARGV[4 * j - 1]), tonumber(ARGV[4 * j])
  if share > 0 then
    local base_key = KEYS[j + 1] .. ':base'
    local base = tonumber(redis.call('get', base_key) or '0')
    if limit > base then
      base = limit
      redis.call('set', base_key, base, 'EX', ARGV[4 * j - 2])
    end
    limit = math.floor(share * base / 100)
  end
  if count > limit then
    for i = 1, j do
      if ARGV[4 * i + 1] == '1' then redis.call('decr', KEYS[i + 1]) end
    end
    return j
  end
end
return 0
"""
