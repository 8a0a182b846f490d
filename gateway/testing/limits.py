import time

from conversations.engine import windows


def wait_for_fresh_minute(channel, margin: float = 10.0) -> None:
    """Sleep past the channel's per-minute window boundary if it is less than `margin` seconds away.

    The channel's minute windows are fixed 60-second slots offset per channel
    (conversations/engine/windows.py); a test
    that counts requests must not straddle a boundary.
    """
    now = time.time()
    left = windows.minute_window_end(str(channel.public_id), now) - now
    if left < margin:
        time.sleep(max(0.0, left) + 1.1)


def wait_for_fresh_clock_minute(margin: float = 10.0) -> None:
    """Sleep past the next whole clock minute if it is less than `margin` seconds away (visitor limits' windows)."""
    now = time.time()
    left = (windows.clock_minute(now) + 1) * windows.MINUTE - now
    if left < margin:
        time.sleep(left + 0.1)


def wait_for_fresh_utc_day(margin: float = 60.0) -> None:
    """Sleep past 00:00 UTC if it is less than `margin` seconds away: a test that counts a day's chats (daily
    limits, the widget's daily share) must not see its counters start again halfway (conversations/engine/windows.py)."""
    left = windows.seconds_to_utc_midnight(time.time())
    if left < margin:
        time.sleep(left + 0.1)
