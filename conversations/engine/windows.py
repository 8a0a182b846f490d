"""The limit windows: which minute or day a request is counted in, and until when. One home for each rule.

- Channel minutes (`minute_window_end`): fixed 60-second windows per key whose edges
  are staggered by crc32(key) % 60 seconds, so every channel's window does not
  reset at the same second. This is django-ratelimit's formula (4.1), kept exactly
  so counters keep their windows and keys across the switch from its private
  helpers to this module (conversations/engine/limits.py's per-minute counters).
- Clock minutes (`clock_minute`): whole UTC minutes, for the per-visitor limits
  (conversations/engine/visitor_limits.py), which are many small keys and need no stagger.
- Days (`utc_day`, `seconds_to_utc_midnight`): the UTC date, rolling over at 00:00 UTC;
  a day's counter lives DAY_KEY_GRACE past midnight, as clocks drift.

All take `now` as epoch seconds, read once per request by the caller from `now()`.
"""

import time
import zlib

MINUTE = 60
MINUTE_KEY_TTL = MINUTE + 5  # a minute counter outlives its window by django-ratelimit's EXPIRATION_FUDGE
DAY_KEY_GRACE = 3600  # keep a day's counter an hour past midnight; clocks drift
_DAY = 86400


def now() -> float:
    """The time every limit window is read at (epoch seconds).

    One clock for every window, so that a test counting requests in this process can start on a fresh
    window by moving it forward (gateway/testing/limits.py `fresh_windows`) instead of sleeping to one.
    """
    return time.time()


def minute_window_end(key: str, now: float) -> int:
    """When the current staggered 60-second window of `key` ends (epoch seconds; the window is (end - 60, end])."""
    ts = int(now)
    end = ts - ts % MINUTE + zlib.crc32(key.encode("utf-8")) % MINUTE
    return end + MINUTE if end < ts else end


def clock_minute(now: float) -> int:
    """The number of the UTC clock minute `now` is in; it ends at (clock_minute + 1) * 60."""
    return int(now // MINUTE)


def utc_day(now: float) -> str:
    """The UTC date of `now` as YYYYMMDD: the day part of every daily counter's key."""
    return time.strftime("%Y%m%d", time.gmtime(now))


def seconds_to_utc_midnight(now: float) -> int:
    """Whole seconds until the next 00:00 UTC, rounded up past it (at least 1): a daily refusal's Retry-After."""
    return max(1, int(_DAY - now % _DAY) + 1)
