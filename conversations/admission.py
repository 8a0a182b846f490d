"""A request's way in: its key verified, then counted against every limit that applies."""

from channels_app import key_cache
from channels_app.authentication import PresentedKey
from conversations import limits, proof_of_work, visitor_limits, widget_sessions

_ATTEMPTS = 3


class NotCached(Exception):
    """The event-loop path cannot decide this request; nothing was counted. Take the threaded path."""


def admit(credential: PresentedKey, endpoint: str, session_id: str) -> tuple[str, ...] | None:
    """Verify the key, then count the request: a widget visitor's limits, the per-minute limit of its key's kind
    and, for a chat, its slots of the daily limits (whose keys are returned, to give back if the chat fails).

    A publishable key's session_id must be one issued for its channel
    (conversations/widget_sessions.py); a widget chat on a channel that
    requires proof of work then redeems its solution, so a chat without one
    counts nothing. Raises the API's errors. With the key cache, the counting
    is guarded by the generation the key was read under: when a channel or key
    changed since, nothing is counted and the key is read again.
    """
    redeemed = False
    for attempt in range(_ATTEMPTS):
        credential.verify()
        widget_sessions.check(credential, session_id)  # before counting: a refused id costs nobody a slot
        if not redeemed and _needs_proof_of_work(credential, endpoint):
            proof_of_work.solution_redeem(credential.channel, credential.pow_solution)
            redeemed = True
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


async def admit_cached(credential: PresentedKey, endpoint: str, session_id: str) -> tuple[str, ...] | None:
    """admit() from the event loop, for a key in the key cache: one Redis call, nothing else.

    Raises NotCached (having counted nothing) whenever admit() must decide:
    the key is not cached, a refusal needs confirming, or it changed since.
    """
    if not credential.verify_cached() or _needs_proof_of_work(credential, endpoint):
        raise NotCached()  # a proof of work is redeemed in the cache: admit()'s, in a thread
    widget_sessions.check(credential, session_id)
    counters, daily = _counters(credential, endpoint, session_id)
    try:
        await limits.take_async(counters, guard=key_cache.guard(credential.generation))
    except limits.Stale:
        credential.forget()
        raise NotCached() from None
    return daily


def _needs_proof_of_work(credential: PresentedKey, endpoint: str) -> bool:
    return credential.publishable and endpoint == "chat" and credential.channel.widget_pow_required


def _counters(credential: PresentedKey, endpoint: str, session_id: str) -> tuple[list[limits.Counter], tuple[str, ...] | None]:
    """A secret key's: the channel's minute (and daily) counters. A publishable key's: the visitor's, then the
    widget's own minute counter and, for a chat, its shares of the day, then the channel's daily counter."""
    channel = credential.channel
    if credential.publishable:
        counters = visitor_limits.counters(credential, endpoint, session_id) + [limits.widget_minute_counter(channel, endpoint)]
        if endpoint == "chat":
            counters += limits.widget_counters(channel)
    else:
        counters = [limits.minute_counter(channel, endpoint)]
    if endpoint != "chat":
        return counters, None
    counters.append(limits.daily_counter(channel))
    return counters, limits.held_keys(counters)
