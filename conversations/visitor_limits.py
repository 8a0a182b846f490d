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

from channels_app.authentication import PresentedKey
from conversations.limits import _DAY_KEY_GRACE, Counter, _seconds_to_utc_midnight, _utc_now
from gateway.errors import DailyLimitExceeded, RateLimited


def _digest(value: str) -> str:
    """A fixed-length cache-key part, whatever the session id or address holds."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def counters(credential: PresentedKey, endpoint: str, session_id: str) -> list[Counter]:
    """A visitor's counters for one request ("chat" or "history"), to take before the channel's; none for secret keys."""
    if not credential.publishable:
        return []
    channel = credential.channel
    session = _digest(session_id)
    now = time.time()
    minute = int(now // 60)
    found = [
        Counter(
            f"visitor:minute:{endpoint}:{channel.public_id}:{session}:{minute}",
            channel.visitor_rate_limit_per_minute,
            90,
            lambda: RateLimited(retry_after=(minute + 1) * 60 - now),
        )
    ]
    if endpoint != "chat":
        return found
    today = _utc_now()
    ttl = _seconds_to_utc_midnight(today)
    day = f"{today:%Y%m%d}"
    address = _digest(credential.client_ip)
    return found + [
        Counter(f"visitor:daily:{channel.public_id}:{session}:{day}", channel.visitor_daily_limit, ttl + _DAY_KEY_GRACE,
                lambda: DailyLimitExceeded(retry_after=ttl)),
        Counter(f"visitor:ipdaily:{channel.public_id}:{address}:{day}", channel.visitor_ip_daily_limit, ttl + _DAY_KEY_GRACE,
                lambda: DailyLimitExceeded(retry_after=ttl)),
    ]
