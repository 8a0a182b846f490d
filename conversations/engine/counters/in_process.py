"""Counters in the default cache of one process (Django's LocMemCache): development, tests, `make run`.

In process, so its calls do no I/O and run on the event loop as they are;
atomic per call (the cache's lock), which is enough for one process. The key
cache is off without Redis, so there is never a guard to check here.
"""

from django.core.cache import caches

from conversations.engine.counters import BASE_SUFFIX, Counters


class InProcessCounters(Counters):
    async def _count_all(self, counters, guard) -> int:
        cache = caches["default"]
        for position, counter in enumerate(counters, start=1):
            cache.add(counter.key, 0, counter.ttl)
            count, limit = cache.incr(counter.key), counter.limit
            if counter.share_percent:
                base = max(cache.get(counter.key + BASE_SUFFIX, 0), counter.limit)
                cache.set(counter.key + BASE_SUFFIX, base, counter.ttl)
                limit = counter.share_percent * base // 100
            if count > limit:
                for taken in counters[:position]:
                    if taken.held:
                        cache.decr(taken.key)
                return position
        return 0

    async def _decrement(self, key: str) -> None:
        caches["default"].decr(key)

    async def _add(self, key: str, ttl: int) -> bool:
        return caches["default"].add(key, 1, ttl)
