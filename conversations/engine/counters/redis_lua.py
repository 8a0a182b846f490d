"""Counters in Redis, shared by every process: each request's counters in one atomic Lua call.

Called through the event loop's asyncio Redis client (gateway/infra/adb.py), with
keys made by the default cache (its prefix and version), so the dashboard's
reads through Django's cache see the same counts. Every call waits for the
loop's phase gate first (gateway/infra/db.py), so a burst of chats waits on the loop
instead of opening a Redis connection each.
"""

import weakref

from django.core.cache import caches

from conversations.engine.counters import BASE_SUFFIX, Counters
from gateway.infra import adb
from gateway.infra.db import phase_gate

# KEYS[1] is the guard; counter j is KEYS[j+1] with its TTL in ARGV[4j-2], its limit in ARGV[4j-1],
# its share_percent in ARGV[4j] and whether it is held in ARGV[4j+1]. The rules are Counters.take's.
# Public because the bench's no-framework floor (bench/floor.py) sends this very script.
COUNT_ALL = """
if ARGV[1] ~= '' and redis.call('get', KEYS[1]) ~= ARGV[1] then return -1 end
for j = 1, #KEYS - 1 do
  redis.call('set', KEYS[j + 1], 0, 'EX', ARGV[4 * j - 2], 'NX')
  local count = redis.call('incr', KEYS[j + 1])
  local limit, share = tonumber(ARGV[4 * j - 1]), tonumber(ARGV[4 * j])
  if share > 0 then
    local base_key = KEYS[j + 1] .. '""" + BASE_SUFFIX + """'
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
# Give back a slot only while its counter lives (an expired day is not resurrected at -1).
_DECR_IF_EXISTS = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end return false"

_scripts: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def _script(client, source: str):
    scripts = _scripts.setdefault(client, {})
    if source not in scripts:
        scripts[source] = client.register_script(source)
    return scripts[source]


class RedisCounters(Counters):
    async def _count_all(self, counters, guard) -> int:
        make_key = caches["default"].make_and_validate_key
        keys = [make_key(guard[0] if guard else "guard:none")]
        args: list = [str(guard[1]) if guard else ""]
        for counter in counters:
            keys.append(make_key(counter.key))
            args += [int(counter.ttl), int(counter.limit), int(counter.share_percent), 1 if counter.held else 0]
        async with phase_gate():
            client = adb.redis_client()
            return int(await adb.to_the_end(_script(client, COUNT_ALL)(keys=keys, args=args)))

    async def _decrement(self, key: str) -> None:
        async with phase_gate():
            client = adb.redis_client()
            await adb.to_the_end(_script(client, _DECR_IF_EXISTS)(keys=[caches["default"].make_and_validate_key(key)]))

    async def _add(self, key: str, ttl: int) -> bool:
        async with phase_gate():
            client = adb.redis_client()
            return bool(await adb.to_the_end(client.set(caches["default"].make_and_validate_key(key), 1, ex=ttl, nx=True)))
