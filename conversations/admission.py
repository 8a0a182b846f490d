"""A request's way in: its key verified, then counted against every limit that applies."""

from channels_app import key_cache
from channels_app.authentication import PresentedKey
from conversations import limits, visitor_limits

_ATTEMPTS = 3


def admit(credential: PresentedKey, endpoint: str, session_id: str) -> str | None:
    """Verify the key, then count the request: a widget visitor's limits, the channel's per-minute limit and,
    for a chat, a slot of its daily limit (whose key is returned, to give back if the chat fails).

    Raises the API's errors. With the key cache, the counting is guarded by the
    generation the key was read under: when a channel or key changed since,
    nothing is counted and the key is read again.
    """
    for attempt in range(_ATTEMPTS):
        credential.verify()
        channel = credential.channel
        counters = visitor_limits.counters(credential, endpoint, session_id) + [limits.minute_counter(channel, endpoint)]
        daily = limits.daily_counter(channel) if endpoint == "chat" else None
        if daily is not None:
            counters.append(daily)
        # The last attempt's key was just read from the database: it needs no guard.
        guard = key_cache.guard(credential.generation) if attempt < _ATTEMPTS - 1 else None
        try:
            limits.take(counters, guard=guard)
        except limits.Stale:
            credential.forget()
            continue
        return daily.key if daily is not None else None
    raise AssertionError("unreachable")
