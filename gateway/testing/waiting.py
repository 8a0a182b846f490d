"""Waiting in a test for something another thread or process does (a settled chat, a cancelled upstream call)."""

import time


def wait_until(predicate, timeout: float = 5.0) -> bool:
    """Poll `predicate` every 50 ms until it is true or `timeout` seconds passed; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()
