"""Which channels have knowledge to search: a per-process set, so a chat of any other channel costs nothing.

Read with one query at most every KNOWLEDGE_READY_CACHE_SECONDS (and at once
after this process changed a source); a chat of a channel not in it never
searches. A source made ready by another process (a Celery worker) is used
within that many seconds.
"""

import threading
import time

from django.conf import settings

_lock = threading.Lock()
_state: dict = {"channels": frozenset(), "read_at": None}


def _read() -> frozenset[int]:
    from knowledge.models import Source

    return frozenset(Source.objects.filter(chunks__gt=0).values_list("channel_id", flat=True).distinct())


def channels() -> frozenset[int]:
    """The channels with a source that has chunks (sync: call it in a database phase)."""
    now = time.monotonic()
    read_at = _state["read_at"]
    if read_at is not None and now - read_at < settings.KNOWLEDGE_READY_CACHE_SECONDS:
        return _state["channels"]
    found = _read()
    with _lock:
        _state.update(channels=found, read_at=now)
    return found


def fresh() -> bool:
    """Whether `known` may answer without a query."""
    read_at = _state["read_at"]
    return read_at is not None and time.monotonic() - read_at < settings.KNOWLEDGE_READY_CACHE_SECONDS


def known() -> frozenset[int]:
    return _state["channels"]


def forget() -> None:
    with _lock:
        _state["read_at"] = None
