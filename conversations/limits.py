"""Per-channel limits, counted in the cache (Redis when REDIS_URL is set).

- Per minute: django-ratelimit's fixed 60-second window per channel and endpoint
  (its window and cache key, so both stay compatible); every authenticated,
  valid request counts, refused ones included.
- Per day: a counter per channel and UTC date, so the day rolls over at 00:00 UTC
  (django-ratelimit staggers its windows per key, which would not). A chat holds
  a slot while it goes upstream and gives it back if it fails, so the quota
  counts chats that got a reply.

A request's counters (a widget visitor's, then the channel's) are taken with
`take()`: with Redis in one atomic round trip, optionally guarded by the key
cache's generation (channels_app/key_cache.py), so a request is never counted
under a channel's settings that changed since they were read.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache, caches
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key

from channels_app.models import Channel
from gateway import adb
from gateway.cache import SharedRedisCache
from gateway.errors import ApiError, DailyLimitExceeded, RateLimited, ServiceUnavailable

logger = logging.getLogger(__name__)
_DAY_KEY_GRACE = 3600  # keep a day's counter an hour past midnight; clocks drift


@dataclass(frozen=True)
class Counter:
    key: str
    limit: int
    ttl: int
    refusal: Callable[[], ApiError]  # the error once the count passes `limit`


class Stale(Exception):
    """The guard changed: what the counters were built from must be read again."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _seconds_to_utc_midnight(now: dt.datetime) -> int:
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()) + 1)


def _daily_key(channel: Channel, now: dt.datetime) -> str:
    return f"daily:{channel.public_id}:{now:%Y%m%d}"


def _unavailable(exc: Exception):
    logger.error("Limit counters unavailable (%s); refusing the request", type(exc).__name__)
    return ServiceUnavailable()


def minute_counter(channel: Channel, endpoint: str) -> Counter:
    """The channel's per-minute counter for `endpoint`, in django-ratelimit's window and key."""
    value, rate = str(channel.public_id), (channel.rate_limit_per_minute, 60)
    window = _get_window(value, 60)
    key = _make_cache_key(f"minute:{endpoint}", window, rate, value, None)
    return Counter(key, channel.rate_limit_per_minute, 60 + EXPIRATION_FUDGE, lambda: RateLimited(retry_after=window - int(time.time())))


def daily_counter(channel: Channel) -> Counter:
    """Today's chats of the channel (UTC)."""
    now = _utc_now()
    ttl = _seconds_to_utc_midnight(now)
    return Counter(_daily_key(channel, now), channel.daily_limit, ttl + _DAY_KEY_GRACE, lambda: DailyLimitExceeded(retry_after=ttl))


def take(counters: list[Counter], *, guard: tuple[str, int] | None = None) -> None:
    """Count one request against each counter in order; raise the first one's refusal that is over its limit.

    Counters after a refusing one are not counted. Raises Stale (counting
    nothing) when `guard`'s key no longer holds its value; a guard needs Redis.
    Fails closed: the cache down is a 503, never unlimited.
    """
    backend = caches["default"]
    try:
        if isinstance(backend, SharedRedisCache):
            over = backend.count_all([(c.key, c.limit, c.ttl) for c in counters], guard=guard)
        else:
            over = _count_each(backend, counters)
    except Exception as exc:
        raise _unavailable(exc) from exc
    _settle(over, counters)


async def take_async(counters: list[Counter], *, guard: tuple[str, int] | None = None) -> None:
    """take(), from the event loop: Redis only (gateway/adb.py)."""
    try:
        over = await adb.to_the_end(
            caches["default"].count_all_async(adb.redis_client(), [(c.key, c.limit, c.ttl) for c in counters], guard=guard)
        )
    except Exception as exc:
        raise _unavailable(exc) from exc
    _settle(over, counters)


def _settle(over: int, counters: list[Counter]) -> None:
    if over == -1:
        raise Stale()
    if over:
        raise counters[over - 1].refusal()


def _count_each(backend, counters: list[Counter]) -> int:
    for position, counter in enumerate(counters, start=1):
        backend.add(counter.key, 0, counter.ttl)
        if backend.incr(counter.key) > counter.limit:
            return position
    return 0


def daily_release(key: str) -> None:
    """Give back the slot a chat's daily counter took (under `key`): the chat failed."""
    try:
        cache.decr(key)
    except Exception:  # the counter expired or the cache blipped: nothing to give back
        logger.warning("Could not release a daily slot (%s)", key)


async def daily_release_async(key: str) -> None:
    """daily_release(), from the event loop: Redis only (gateway/adb.py)."""
    try:
        await caches["default"].incr_async(adb.redis_client(), key, -1)
    except Exception:
        logger.warning("Could not release a daily slot (%s)", key)


def daily_used(channel: Channel) -> int:
    return cache.get(_daily_key(channel, _utc_now()), 0)
