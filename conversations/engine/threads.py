"""A session's threads: the session expiry and the thread rule, each in one place.

- Session expiry: a thread lives SESSION_TTL_HOURS from its first message
  (`expires_at_for`) and is live while `expires_at > now` (`is_live`; `live()`
  is the same test as a query filter).
- Current thread or next: a message goes to the session's latest thread while
  that is live, else to a new thread numbered one past it (1 for a session's
  first message): `thread_for_message`. So only the latest thread can be live.

conversations/engine/store/postgresql.py's statements apply the same rules in SQL
(`s.expires_at > %(now)s`; `CASE WHEN latest.expires_at > ... THEN latest.thread
ELSE coalesce(latest.thread, 0) + 1`) with `expires` from `expires_at_for`, so a
chat stays one round trip; conversations/tests/test_threads.py runs both forms
on the same cases and pins them to these functions.
"""

from datetime import datetime, timedelta

from django.conf import settings


def expires_at_for(started_at: datetime) -> datetime:
    """When a thread whose first message came at `started_at` expires."""
    return started_at + timedelta(hours=settings.SESSION_TTL_HOURS)


def is_live(expires_at: datetime, now: datetime) -> bool:
    """Whether a thread expiring at `expires_at` still takes messages and shows its history at `now`."""
    return expires_at > now


def live(now: datetime, *, through: str = "") -> dict:
    """is_live as queryset filter arguments; `through` is the path to the Session (e.g. "session__")."""
    return {f"{through}expires_at__gt": now}


def thread_for_message(latest_thread: int | None, latest_expires_at: datetime | None, now: datetime) -> tuple[int, bool]:
    """(the thread number a message at `now` goes to, whether that thread is new), given the session's latest thread."""
    if latest_thread is not None and is_live(latest_expires_at, now):
        return latest_thread, False
    return (latest_thread or 0) + 1, True
