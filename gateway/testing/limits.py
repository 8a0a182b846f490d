import time

from conversations.engine import windows


def _channel_minute_left(channel, now: float) -> float:
    return windows.minute_window_end(str(channel.public_id), now) - now


def _clock_minute_left(now: float) -> float:
    return (windows.clock_minute(now) + 1) * windows.MINUTE - now


def fresh_windows(monkeypatch, channel=None, margin: float = 10.0) -> float:
    """Move the limit windows' clock forward (under a minute) to where the channel's minute window, if a
    channel is given, and the clock minute each have at least `margin` seconds left: a test counting requests
    served in this process (in-process or on a socket of this process) then straddles no window boundary and
    waits for none. Returns the shift in seconds. A test whose gateway runs in another process cannot move its
    clock: it uses the `wait_for_...` helpers below.
    """
    now = time.time()
    for shift in range(windows.MINUTE + 1):
        moved = now + shift
        channel_left = _channel_minute_left(channel, moved) if channel else windows.MINUTE
        if _clock_minute_left(moved) >= margin and channel_left >= margin:
            monkeypatch.setattr(windows, "now", lambda: time.time() + shift)
            return shift
    raise AssertionError(f"no point in the next minute leaves {margin} s in both windows")


def wait_for_fresh_minute(channel, margin: float = 10.0) -> None:
    """Sleep past the channel's per-minute window boundary if it is less than `margin` seconds away.

    The channel's minute windows are fixed 60-second slots offset per channel
    (conversations/engine/windows.py); a test
    that counts requests must not straddle a boundary.
    """
    now = time.time()
    left = _channel_minute_left(channel, now)
    if left < margin:
        time.sleep(max(0.0, left) + 1.1)


def wait_for_fresh_clock_minute(margin: float = 10.0) -> None:
    """Sleep past the next whole clock minute if it is less than `margin` seconds away (visitor limits' windows)."""
    now = time.time()
    left = _clock_minute_left(now)
    if left < margin:
        time.sleep(left + 0.1)


def wait_for_fresh_utc_day(margin: float = 60.0) -> None:
    """Sleep past 00:00 UTC if it is less than `margin` seconds away: a test that counts a day's chats (daily
    limits, the widget's daily share) must not see its counters start again halfway (conversations/engine/windows.py)."""
    left = windows.seconds_to_utc_midnight(time.time())
    if left < margin:
        time.sleep(left + 0.1)
