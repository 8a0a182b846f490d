"""Reads of conversations, always scoped to one channel and one namespace (Session.source)."""

from datetime import datetime

from channels_app.models import Channel
from conversations.engine import threads
from conversations.models import Message

# More than any model's window holds at 2,000-character messages; the prompt
# builder trims further by tokens.
HISTORY_LOAD_LIMIT = 400


def thread_messages(*, channel: Channel, source: str, session_id: str, now: datetime) -> list[Message]:
    """The current (unexpired) thread's messages, oldest first; [] when there is none.

    Only the latest thread can be unexpired: a new one starts only after the
    previous one expired.
    """
    return list(
        Message.objects.filter(
            session__channel=channel, session__source=source, session__session_id=session_id,
            **threads.live(now, through="session__"),
        )
        .only("role", "content", "created_at")
        .order_by("id")
    )


def thread_history(*, channel_id: int, source: str, session_id: str, now: datetime) -> list[tuple[str, str]]:
    """The current thread's last messages as (role, content), oldest first, for the prompt."""
    rows = (
        Message.objects.filter(
            session__channel_id=channel_id, session__source=source, session__session_id=session_id,
            **threads.live(now, through="session__"),
        )
        .order_by("-id")
        .values_list("role", "content")[:HISTORY_LOAD_LIMIT]
    )
    return list(reversed(rows))
