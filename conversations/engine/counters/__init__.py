"""Limit counters: one interface, two implementations, chosen once at start-up from settings.

`backend()` is the one `Counters` of the process: `CHAT_COUNTERS` names its
class (as Django's AUTHENTICATION_BACKENDS name theirs); by default Redis
(`redis_lua.RedisCounters`, shared by every process, one atomic Lua call per
request) when REDIS_URL is set, else the in-process cache
(`in_process.InProcessCounters`, one process: development and tests).

What each request counts, and against which limits, is decided in
conversations/engine/limits.py and conversations/engine/visitor_limits.py (the `Counter`s);
here they are only counted. Every method is async and fails closed: the
counters unavailable is a 503, never unlimited.
"""

import functools
import logging

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from conversations.engine.limits import Counter
from gateway.infra.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

BASE_SUFFIX = ":base"  # a share counter's base is kept beside it, under its key + this


class Stale(Exception):
    """The guard changed: what the counters were built from (the key's channel) must be read again."""


class Counters:
    """Count requests against limits. Subclasses implement the three `_`-methods; callers use the public ones."""

    async def take(self, counters: list[Counter], *, guard: tuple[str, int] | None = None) -> None:
        """Count one request against each counter in order; raise the first refusal of one over its limit.

        Counters after a refusing one are not counted, and the held ones
        before it are given back in the same atomic step. Raises Stale
        (counting nothing) when `guard`'s key no longer holds its value.
        """
        try:
            over = await self._count_all(counters, guard)
        except Exception as exc:
            raise unavailable(exc) from exc
        if over == -1:
            raise Stale()
        if over:
            raise counters[over - 1].refusal()

    async def give_back(self, keys: tuple[str, ...]) -> None:
        """Give back the slots a chat holds (limits.held_keys): it failed. Never raises: at worst a slot stays taken."""
        for key in keys:
            try:
                await self._decrement(key)
            except Exception:  # the counter expired or the cache blipped: nothing to give back
                logger.warning("Could not release a daily slot (%s)", key)

    async def add_once(self, key: str, ttl: int) -> bool:
        """Set `key` for `ttl` seconds if it is not set; whether it was (a single-use token's redemption)."""
        try:
            return await self._add(key, ttl)
        except Exception as exc:
            raise unavailable(exc) from exc

    async def _count_all(self, counters: list[Counter], guard: tuple[str, int] | None) -> int:
        """0 when every counter stayed within its limit, the 1-based position of the first over it, -1 when stale."""
        raise NotImplementedError

    async def _decrement(self, key: str) -> None:
        raise NotImplementedError

    async def _add(self, key: str, ttl: int) -> bool:
        raise NotImplementedError


def unavailable(exc: Exception) -> ServiceUnavailable:
    logger.error("Limit counters unavailable (%s); refusing the request", type(exc).__name__)
    return ServiceUnavailable()


@functools.cache
def backend() -> Counters:
    """The process's counters, as CHAT_COUNTERS names them."""
    return import_string(settings.CHAT_COUNTERS)()


@receiver(setting_changed)
def _forget_backend(*, setting, **kwargs):
    if setting in ("CHAT_COUNTERS", "CACHES"):
        backend.cache_clear()
