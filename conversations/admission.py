"""A request's way in: its key verified, then counted against every limit that applies."""

from channels_app import key_cache
from channels_app.authentication import PresentedKey
from conversations import limits, visitor_limits, widget_sessions

_ATTEMPTS = 3


class NotCached(Exception):
    """The event-loop path cannot decide this request; nothing was counted. Take the threaded path."""


def admit(credential: PresentedKey, endpoint: str, session_id: str) -> str | None:
    """Verify the key, then count the request: a widget visitor's limits, the channel's per-minute limit and,
    for a chat, a slot of its daily limit (whose key is returned, to give back if the chat fails).

    A publishable key's session_id must be one issued for its channel
    (conversations/widget_sessions.py). Raises the API's errors. With the key cache, the counting is guarded by the
    generation the key was read under: when a channel or key changed since,
    nothing is counted and the key is read again.
    """
    for attempt in range(_ATTEMPTS):
        credential.verify()
        widget_sessions.check(credential, session_id)  # before counting: a refused id costs nobody a slot
        counters, daily = _counters(credential, endpoint, session_id)
        # The last attempt's key was just read from the database: it needs no guard.
        guard = key_cache.guard(credential.generation) if attempt < _ATTEMPTS - 1 else None
        try:
            limits.take(counters, guard=guard)
        except limits.Stale:
            credential.forget()
            continue
        return daily
    raise AssertionError("unreachable")


async def admit_cached(credential: PresentedKey, endpoint: str, session_id: str) -> str | None:
    """admit() from the event loop, for a key in the key cache: one Redis call, nothing else.

    Raises NotCached (having counted nothing) whenever admit() must decide:
    the key is not cached, a refusal needs confirming, or it changed since.
    """
    if not credential.verify_cached():
        raise NotCached()
    widget_sessions.check(credential, session_id)
    counters, daily = _counters(credential, endpoint, session_id)
    try:
        await limits.take_async(counters, guard=key_cache.guard(credential.generation))
    except limits.Stale:
        credential.forget()
        raise NotCached() from None
    return daily


def _counters(credential: PresentedKey, endpoint: str, session_id: str) -> tuple[list[limits.Counter], str | None]:
    channel = credential.channel
    counters = visitor_limits.counters(credential, endpoint, session_id) + [limits.minute_counter(channel, endpoint)]
    daily = limits.daily_counter(channel) if endpoint == "chat" else None
    if daily is not None:
        counters.append(daily)
    return counters, daily.key if daily is not None else None
