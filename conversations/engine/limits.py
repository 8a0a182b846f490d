"""Per-channel limits: which counters a request takes, and their limits (counted by conversations/engine/counters).

- Per minute: a fixed 60-second window per channel and endpoint, staggered per
  channel (conversations/engine/windows.py; the window and cache key are django-ratelimit's,
  so counters stay compatible); every authenticated, valid request counts, refused ones included.
- Per day: a counter per channel and UTC date, so the day rolls over at 00:00 UTC
  (a staggered window would not). A chat holds
  a slot while it goes upstream and gives it back if it fails, so the quota
  counts chats that got a reply.

A request's counters (a widget visitor's, then the channel's) are taken together by
conversations/engine/counters (with Redis in one atomic round trip), guarded by the key
cache's generation (channels_app/key_cache.py), so a request is never counted
under a channel's settings that changed since they were read.

Secret-key and widget (publishable-key) traffic have separate per-minute
counters, so widget traffic cannot lock the backend out: the backend keeps the
channel's whole rate_limit_per_minute, the widget gets widget_share_percent of
it (at least 1). Per day, every chat counts against the channel's daily_limit;
widget chats also against the widget's share of it and of the credits
(widget_counters), so the backend always keeps the rest. docs/widget.md.
"""

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

from channels_app.models import Channel
from conversations.engine import windows
from gateway.infra.errors import ApiError, CreditsExhausted, DailyLimitExceeded, RateLimited


@dataclass(frozen=True)
class Counter:
    key: str
    limit: int
    ttl: int
    refusal: Callable[[], ApiError]  # the error once the count passes its limit
    # 0: the limit is `limit`. Otherwise the limit is this percentage (rounded down) of the highest `limit`
    # any request gave this counter (kept beside it: conversations/engine/counters): the widget's share of the credits,
    # whose `limit` is the credits as read with the key (see widget_counters).
    share_percent: int = 0
    # A slot the chat holds (daily counters): given back in the same atomic call when this or a later
    # counter refuses the request, and by Counters.give_back() when the chat fails, so it counts answered chats.
    held: bool = False


def _daily_key(channel: Channel, now: float) -> str:
    return f"daily:{channel.public_id}:{windows.utc_day(now)}"


def minute_counter(channel: Channel, endpoint: str) -> Counter:
    """The channel's per-minute counter for `endpoint` (secret-key traffic), in its staggered minute window."""
    return _minute(channel, f"minute:{endpoint}", channel.rate_limit_per_minute)


def key_minute_counter(channel: Channel, key_id: int, limit: int, endpoint: str) -> Counter:
    """One named secret key's own per-minute counter for `endpoint` (ApiKey.rate_limit_per_minute), in its
    channel's minute window: on top of the channel's, so one backend cannot use up the channel's whole rate."""
    value = str(channel.public_id)
    window = windows.minute_window_end(value, windows.now())
    return Counter(
        f"rl:key:{key_id}:{endpoint}:{limit}:{window}", limit, windows.MINUTE_KEY_TTL,
        lambda: RateLimited(retry_after=window - int(windows.now())),
    )


def widget_share(channel: Channel, of: int) -> int:
    """The widget's share of `of` (rounded down)."""
    return of * channel.widget_share_percent // 100


def widget_minute_counter(channel: Channel, endpoint: str) -> Counter:
    """All widget traffic's per-minute counter for `endpoint`: its share of the channel's rate, at least 1."""
    return _minute(channel, f"minute-widget:{endpoint}", max(1, widget_share(channel, channel.rate_limit_per_minute)))


def _minute(channel: Channel, group: str, limit: int) -> Counter:
    # The window is the channel's, staggered per channel; the channel's rate is part of the key, so a new
    # rate starts a new count. Key as django-ratelimit 4.1 builds it (its default prefix and hash), so
    # counters taken before and after the switch to conversations/engine/windows.py are the same.
    value = str(channel.public_id)
    window = windows.minute_window_end(value, windows.now())
    digest = hashlib.sha256(f"{group}{channel.rate_limit_per_minute}/60s{value}{window}".encode()).hexdigest()
    return Counter(f"rl:{digest}", limit, windows.MINUTE_KEY_TTL, lambda: RateLimited(retry_after=window - int(windows.now())))


def daily_counter(channel: Channel) -> Counter:
    """Today's chats of the channel (UTC), whichever key made them: the channel's quota."""
    return day_counter(_daily_key(channel, windows.now()), channel.daily_limit, held=True)


def widget_counters(channel: Channel) -> list[Counter]:
    """Today's widget chats, against the widget's share of the daily limit and of the credits.

    The credit share is share % of the most credits any widget chat of the day
    read with its key: the credits at the day's first widget chat, or more
    after a top-up. Spending only lowers the credits, so neither the widget's
    own chats nor a key read from the key cache (up to KEY_CACHE_SECONDS old)
    can raise it; the current share applies, so an owner's change counts at once.
    """
    day = windows.utc_day(windows.now())
    daily = day_counter(f"widget:daily:{channel.public_id}:{day}", widget_share(channel, channel.daily_limit), held=True)
    if channel.draws_from_organisation:
        # Its chats spend the organisation's credits, shared by its channels: the widget's share of the
        # credits is of a channel's own, so only its share of the daily limit applies (and the hold's 403).
        return [daily]
    credits = day_counter(f"widget:credits:{channel.public_id}:{day}", channel.credits, held=True,
                          share_percent=channel.widget_share_percent)
    if not channel.credits:  # no share of nothing: say what the backend would hear, the credits are gone
        credits = dataclasses.replace(credits, refusal=CreditsExhausted)
    return [daily, credits]


def day_counter(key: str, limit: int, *, held: bool = False, share_percent: int = 0) -> Counter:
    """A counter for today (UTC) under `key`, refusing with 429 "Daily limit exceeded" until midnight."""
    ttl = windows.seconds_to_utc_midnight(windows.now())
    return Counter(key, limit, ttl + windows.DAY_KEY_GRACE, lambda: DailyLimitExceeded(retry_after=ttl), share_percent, held)


def held_keys(counters: list[Counter]) -> tuple[str, ...]:
    """The keys of the slots a chat holds once admitted, to give back (Counters.give_back) if it fails."""
    return tuple(c.key for c in counters if c.held)


def daily_used(channel: Channel) -> int:
    return cache.get(_daily_key(channel, windows.now()), 0)
