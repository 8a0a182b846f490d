import time

from django_ratelimit.core import _get_window


def wait_for_fresh_minute(channel, margin: float = 10.0) -> None:
    """Sleep past the channel's per-minute window boundary if it is less than `margin` seconds away.

    django-ratelimit's windows are fixed 60-second slots offset per key; a test
    that counts requests must not straddle a boundary.
    """
    left = _get_window(str(channel.public_id), 60) - time.time()
    if left < margin:
        time.sleep(max(0.0, left) + 1.1)


def wait_for_fresh_clock_minute(margin: float = 10.0) -> None:
    """Sleep past the next whole clock minute if it is less than `margin` seconds away (visitor limits' windows)."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.1)
