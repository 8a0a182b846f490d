"""Per-visitor limits for publishable keys: one widget visitor cannot drain a channel.

Checked before the channel's own limits and credits, so a refused visitor
costs the channel nothing. Counted in the cache (Redis when REDIS_URL is set),
fixed windows, atomic increments, failing closed like conversations/engine/limits.py:

- per session_id, per minute: chat and history each (`visitor_rate_limit_per_minute`);
- per client address, per minute: chat and history each, over every session
  (`visitor_ip_rate_limit_per_minute`), since a visitor can make up new session ids at will;
- per session_id, per UTC day: chats (`visitor_daily_limit`);
- per client address, per UTC day: chats over every session (`visitor_ip_daily_limit`,
  by default well below a new channel's credits).

A chat counts when it passes these checks, whatever happens to it afterwards.
The client address is REMOTE_ADDR (uvicorn sets it from the connection, or
from X-Forwarded-For with --proxy-headers/--forwarded-allow-ips), or with
TRUSTED_PROXY_COUNT the address our own proxies recorded (accounts/client_ip.py).
Secret keys are not limited per visitor: their integrator's backend is one caller.
All widget traffic together is bounded by the widget's share (conversations/engine/limits.py).
"""

import hashlib

from channels_app.credentials import VerifiedKey
from conversations.engine import windows
from conversations.engine.limits import Counter, day_counter
from gateway.infra.errors import RateLimited


def _digest(value: str) -> str:
    """A fixed-length cache-key part, whatever the session id or address holds."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def counters(credential: VerifiedKey, endpoint: str, session_id: str) -> list[Counter]:
    """A visitor's counters for one request ("chat" or "history"), to take before the channel's; none for secret keys."""
    if not credential.publishable:
        return []
    channel = credential.channel
    session = _digest(session_id)
    address = _digest(credential.client_ip)
    now = windows.now()
    found = [
        _per_minute(channel, f"minute:{session}", endpoint, channel.visitor_rate_limit_per_minute, now),
        _per_minute(channel, f"ipminute:{address}", endpoint, channel.visitor_ip_rate_limit_per_minute, now),
    ]
    if endpoint != "chat":
        return found
    day = windows.utc_day(now)
    return found + [
        day_counter(f"visitor:daily:{channel.public_id}:{session}:{day}", channel.visitor_daily_limit),
        day_counter(f"visitor:ipdaily:{channel.public_id}:{address}:{day}", channel.visitor_ip_daily_limit),
    ]


def session_issue_counter(credential: VerifiedKey) -> Counter:
    """New widget session ids (`POST /api/widget-session`) per client address per clock minute, up to the
    channel's `visitor_rate_limit_per_minute`: one address cannot mint ids in bulk."""
    channel = credential.channel
    address = _digest(credential.client_ip)
    return _per_minute(channel, f"ipminute:{address}", "widget-session", channel.visitor_rate_limit_per_minute, windows.now())


def _per_minute(channel, who: str, endpoint: str, limit: int, now: float) -> Counter:
    minute = windows.clock_minute(now)
    key = f"visitor:{who}:{endpoint}:{channel.public_id}:{minute}"
    return Counter(key, limit, 90, lambda: RateLimited(retry_after=(minute + 1) * 60 - now))
