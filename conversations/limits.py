"""Per-channel limits, counted in the cache (Redis when REDIS_URL is set).

- Per minute: django-ratelimit's fixed 60-second window per channel and endpoint;
  every authenticated, valid request counts, refused ones included.
- Per day: a counter per channel and UTC date, so the day rolls over at 00:00 UTC
  (django-ratelimit staggers its windows per key, which would not). A chat holds
  a slot while it goes upstream and gives it back if it fails, so the quota
  counts chats that got a reply.
"""

import datetime as dt
import logging

from django.core.cache import cache
from django_ratelimit.core import get_usage

from channels_app.models import Channel
from gateway.errors import DailyLimitExceeded, RateLimited, ServiceUnavailable

logger = logging.getLogger(__name__)
_DAY_KEY_GRACE = 3600  # keep a day's counter an hour past midnight; clocks drift


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


def minute_check(channel: Channel, endpoint: str) -> None:
    """Count one request against the channel's per-minute limit; raise when over it."""
    try:
        usage = get_usage(
            None,
            group=f"minute:{endpoint}",
            key=lambda group, request: str(channel.public_id),
            rate=(channel.rate_limit_per_minute, 60),
            increment=True,
        )
    except Exception as exc:  # the cache is down: fail closed, never unlimited
        raise _unavailable(exc) from exc
    if usage["time_left"] < 0:  # django-ratelimit's sign that the cache failed
        raise ServiceUnavailable()
    if usage["should_limit"]:
        raise RateLimited(retry_after=usage["time_left"])


def daily_hold(channel: Channel) -> str:
    """Take one of today's chats and return its counter's key; raise when the daily limit is reached."""
    now = _utc_now()
    key = _daily_key(channel, now)
    ttl = _seconds_to_utc_midnight(now)
    try:
        cache.add(key, 0, ttl + _DAY_KEY_GRACE)
        count = cache.incr(key)
    except Exception as exc:
        raise _unavailable(exc) from exc
    if count > channel.daily_limit:
        raise DailyLimitExceeded(retry_after=ttl)
    return key


def daily_release(key: str) -> None:
    """Give back the slot daily_hold took (under `key`) for a chat that failed."""
    try:
        cache.decr(key)
    except Exception:  # the counter expired or the cache blipped: nothing to give back
        logger.warning("Could not release a daily slot (%s)", key)


def daily_used(channel: Channel) -> int:
    return cache.get(_daily_key(channel, _utc_now()), 0)
