"""Per-visitor limits for publishable keys: one widget visitor cannot drain a channel.

Checked before the channel's own limits and credits, so a refused visitor
costs the channel nothing. Counted in the cache (Redis when REDIS_URL is set),
fixed windows, atomic increments, failing closed like conversations/limits.py:

- per session_id, per minute: chat and history each (`visitor_rate_limit_per_minute`);
- per session_id, per UTC day: chats (`visitor_daily_limit`);
- per client address, per UTC day: chats over every session (`visitor_ip_daily_limit`),
  since a visitor can make up new session ids at will.

A chat counts when it passes these checks, whatever happens to it afterwards.
The client address is REMOTE_ADDR (uvicorn sets it from the connection, or
from X-Forwarded-For with --proxy-headers/--forwarded-allow-ips), or with
TRUSTED_PROXY_COUNT the address our own proxies recorded (accounts/client_ip.py).
Secret keys are not limited per visitor: their integrator's backend is one caller.
"""

import hashlib
import time

from django.core.cache import cache

from channels_app.authentication import PresentedKey
from conversations.limits import _DAY_KEY_GRACE, _seconds_to_utc_midnight, _unavailable, _utc_now
from gateway.errors import DailyLimitExceeded, RateLimited


def _digest(value: str) -> str:
    """A fixed-length cache-key part, whatever the session id or address holds."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _count(key: str, ttl: int) -> int:
    try:
        cache.add(key, 0, ttl)
        return cache.incr(key)
    except Exception as exc:  # the cache is down: fail closed, never unlimited
        raise _unavailable(exc) from exc


def check(credential: PresentedKey, endpoint: str, session_id: str) -> None:
    """Count one visitor request ("chat" or "history"); raise 429 when over a limit. No-op for secret keys."""
    if not credential.publishable:
        return
    channel = credential.channel
    session = _digest(session_id)
    now = time.time()
    minute = int(now // 60)
    if _count(f"visitor:minute:{endpoint}:{channel.public_id}:{session}:{minute}", 90) > channel.visitor_rate_limit_per_minute:
        raise RateLimited(retry_after=(minute + 1) * 60 - now)
    if endpoint != "chat":
        return
    today = _utc_now()
    ttl = _seconds_to_utc_midnight(today)
    day = f"{today:%Y%m%d}"
    if _count(f"visitor:daily:{channel.public_id}:{session}:{day}", ttl + _DAY_KEY_GRACE) > channel.visitor_daily_limit:
        raise DailyLimitExceeded(retry_after=ttl)
    address = _digest(credential.client_ip)
    if _count(f"visitor:ipdaily:{channel.public_id}:{address}:{day}", ttl + _DAY_KEY_GRACE) > channel.visitor_ip_daily_limit:
        raise DailyLimitExceeded(retry_after=ttl)
