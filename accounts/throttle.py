"""Counters for account actions that cost us something: sign-ups and confirmation e-mails.

A fixed window per (action, client address) in the cache, so Redis in production
makes it one count for all processes. The window starts at the first attempt.
"""

from django.core.cache import cache

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"5/h" -> (5, 3600): attempts allowed per window of seconds."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit.strip().lower()[:1]]


def cache_key(action: str, ident: str) -> str:
    return f"acct-throttle:{action}:{ident}"


def hit(action: str, ident: str, rate: str) -> bool:
    """Count one attempt; False when it is over the rate (the caller refuses it)."""
    limit, window = parse_rate(rate)
    key = cache_key(action, ident)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this attempt opens a new window
        cache.add(key, 1, timeout=window)
        count = 1
    return count <= limit


def reset(action: str, ident: str) -> None:
    cache.delete(cache_key(action, ident))
