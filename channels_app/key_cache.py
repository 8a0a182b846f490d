"""Verified keys kept in process, so a chat skips the key query: key → (ApiKey or PublishableKey, its channel).

Used only with Redis (a shared cache): every change to a channel or key
(save, delete, revoke, rotate, deactivate) sets a new random *generation* in
Redis, and a request is counted against its limits only if the generation its
cached key was read under is still current (one Lua call checks it and counts,
conversations/engine/limits.py). A stale entry is dropped and read again from the
database, so a revoked key or a deactivated channel stops working on the next
request in every process. Entries also expire after KEY_CACHE_SECONDS, a
backstop for changes made behind the application's back (raw SQL).

Entries are keyed by the secret key's digest (never the plaintext) or by the
publishable key (public by design). Unknown keys are never cached.
"""

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from gateway.infra.cache import shared_cache_in_use

GENERATION_KEY = "keycache:generation"
GENERATION_TTL = 86_400  # like every key in Redis it expires; a new generation then simply invalidates
MAX_ENTRIES = 50_000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    value: object
    generation: int
    loaded_at: float


_entries: dict[str, _Entry] = {}


def enabled() -> bool:
    return settings.KEY_CACHE_SECONDS > 0 and shared_cache_in_use()


def resolve(cache_id: str, load: Callable[[], object | None]) -> tuple[object | None, int | None, bool]:
    """The cached value for `cache_id`, or `load()`'s (cached when not None); its generation; whether it was cached.

    The generation is None when the cache is off: the value then came straight
    from the database and needs no guard.
    """
    if not enabled():
        return load(), None, False
    value, generation = peek(cache_id)
    if value is not None:
        return value, generation, True
    generation = current_generation()  # read before the database, so a change in between shows as stale
    value = load()
    if value is not None:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[cache_id] = _Entry(value, generation, time.monotonic())
    return value, generation, False


def peek(cache_id: str) -> tuple[object | None, int | None]:
    """The cached value and its generation, without reading anything else; (None, None) when not cached."""
    entry = _entries.get(cache_id) if enabled() else None
    if entry is None or time.monotonic() - entry.loaded_at >= settings.KEY_CACHE_SECONDS:
        return None, None
    return entry.value, entry.generation


def forget(cache_id: str) -> None:
    _entries.pop(cache_id, None)


def current_generation() -> int:
    cache = caches["default"]
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, secrets.randbits(62), GENERATION_TTL)
        generation = cache.get(GENERATION_KEY)
    return generation


def guard(generation: int | None) -> tuple[str, int] | None:
    """What the counters check before counting (conversations/engine/counters Counters.take): the generation still current."""
    return None if generation is None else (GENERATION_KEY, generation)


def invalidate() -> None:
    """Make every process read channels and keys again: now, and again once the transaction commits.

    Now, so no process keeps serving the old state; after the commit, so none
    keeps what it read from the database between the two.
    """
    if not enabled():
        return
    _new_generation()
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    try:
        caches["default"].set(GENERATION_KEY, secrets.randbits(62), GENERATION_TTL)
    except Exception:  # Redis down: chats fail closed on it anyway; entries still expire
        logger.error("Could not invalidate the key cache; cached keys expire within %ss", settings.KEY_CACHE_SECONDS)
