"""A request's way in, after its key was verified at the edge: counted against every limit that applies.

`admit()` is the one place a request is counted: a widget visitor's limits,
the per-minute limit of its key's kind and, for a chat, its slots of the
daily limits. Every API endpoint calls it (with no counters, it still checks
that the key's channel has not changed since it was read).
"""

from dataclasses import dataclass

from channels_app import credentials, key_cache
from channels_app.credentials import VerifiedKey
from conversations.engine import counters, limits, proof_of_work, visitor_limits, widget_sessions

_ATTEMPTS = 3


@dataclass(frozen=True)
class Admitted:
    key: VerifiedKey  # the key it was counted under: the one verified at the edge, or read again since
    held: tuple[str, ...]  # the daily slots a chat holds (limits.held_keys), to give back if it fails


async def admit(key: VerifiedKey, endpoint: str, session_id: str | None = None) -> Admitted:
    """Count the request against its limits; raise the API's errors (and count nothing more) when one refuses.

    A publishable key's session_id must be one issued for its channel
    (conversations/engine/widget_sessions.py); a widget chat on a channel that
    requires proof of work then redeems its solution, so a chat without one
    counts nothing. The counters are guarded by the key cache's generation the
    key was read under: when a channel or key changed since, nothing is counted,
    the key is resolved again (which may now refuse it) and counted under the new one.
    """
    redeemed = False
    for attempt in range(_ATTEMPTS):
        if session_id is not None:
            widget_sessions.check(key, session_id)  # before counting: a refused id costs nobody a slot
        if not redeemed and _needs_proof_of_work(key, endpoint):
            await proof_of_work.solution_redeem(key.channel, key.pow_solution)
            redeemed = True
        taken = _counters(key, endpoint, session_id)
        # The last attempt's key was just read from the database: it needs no guard.
        guard = key_cache.guard(key.generation) if attempt < _ATTEMPTS - 1 else None
        try:
            await counters.backend().take(taken, guard=guard)
        except counters.Stale:
            key = await credentials.resolve(key.presented, fresh=True)
            continue
        return Admitted(key, limits.held_keys(taken))
    raise AssertionError("unreachable")


def _needs_proof_of_work(key: VerifiedKey, endpoint: str) -> bool:
    return key.publishable and endpoint == "chat" and key.channel.widget_pow_required


def _counters(key: VerifiedKey, endpoint: str, session_id: str | None) -> list[limits.Counter]:
    """A secret key's: the channel's minute counter, its own when it has a limit (and the daily counter). A publishable key's: the visitor's, then the
    widget's own minute counter and, for a chat, its shares of the day, then the channel's daily counter.
    Feedback counts like a history read, on its own counters. Issuing a widget session id counts per client
    address; reading the widget's settings, a challenge or erasing a session counts nothing."""
    channel = key.channel
    if endpoint == "widget-session":
        return [visitor_limits.session_issue_counter(key)]
    if endpoint not in ("chat", "history", "feedback"):
        return []
    if key.publishable:
        found = visitor_limits.counters(key, endpoint, session_id) + [limits.widget_minute_counter(channel, endpoint)]
        if endpoint == "chat":
            found += limits.widget_counters(channel)
    else:
        found = [limits.minute_counter(channel, endpoint)]
        if key.rate_limit_per_minute is not None:
            found.append(limits.key_minute_counter(channel, key.key_id, key.rate_limit_per_minute, endpoint))
    if endpoint == "chat":
        found.append(limits.daily_counter(channel))
    return found
