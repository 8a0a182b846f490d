"""The API's key edge, part two: a presented key resolved, once, into an immutable `VerifiedKey`.

Resolve, then trust (healthchecks' `@authorize`): the key edge calls `resolve()`
before the view's handler runs (channels_app/authentication.py), and every later step takes
the `VerifiedKey` as given: its channel, its kind (and so the session
namespace it chats in), its key id, the key cache's generation it was read
under, and for a publishable key the origin it was verified for. Nothing
downstream verifies a key again or changes the value.

A key in the key cache (channels_app/key_cache.py, with Redis) resolves with no
I/O at all; otherwise one database phase reads it (and caches it). The
generation travels in the value: the limit counters refuse to count under a
generation that changed since (conversations/engine/admission.py), and the request
then resolves its key again with `fresh=True`: a new value, never a changed one.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from channels_app import key_cache, keys
from channels_app.models import Channel
from channels_app.selectors import api_key_lookup, api_key_touch, api_key_touch_due, publishable_key_authenticate
from gateway.infra.db import in_db_phase
from gateway.infra.endpoints import PUBLISHABLE, SECRET
from gateway.infra.errors import ApiError, InvalidApiKey, OriginNotAllowed, SiteInactive


@dataclass(frozen=True)
class PresentedKey:
    """A well-formed key as the request presented it, not yet checked against anything.

    A publishable key comes with what its checks need: the request's Origin,
    the client address (the visitor limits) and the `X-Altcha` proof of work.
    """

    raw: str = field(repr=False)
    publishable: bool = False
    origin: str | None = None
    client_ip: str = ""
    pow_solution: str = field(default="", repr=False)

    @property
    def kind(self) -> str:
        """SECRET or PUBLISHABLE, by the key's form: what the endpoint table checks before any query."""
        return PUBLISHABLE if self.publishable else SECRET

    @property
    def cache_id(self) -> str:
        """Its entry in the key cache: a secret key by its digest (never the plaintext), a publishable one as is."""
        return "pk:" + self.raw if self.publishable else "sk:" + keys.digest(self.raw)


@dataclass(frozen=True)
class VerifiedKey:
    """A usable key of an active channel, as verified at the edge. Read-only by contract and by type."""

    channel: Channel
    kind: str  # SECRET or PUBLISHABLE
    key_id: int
    generation: int | None  # the key cache's generation it was read under; None when read uncached
    cors_origin: str | None  # a publishable key's verified Origin: what the answer may grant CORS to
    presented: PresentedKey = field(repr=False)  # to resolve again when the generation moved on
    # A secret key's own name and limits (ApiKey): its per-minute limit (conversations/engine/admission.py) and whether
    # its chats count against a credit cap (the credit hold, channels_app/services.py). None: only the channel's.
    name: str = ""
    rate_limit_per_minute: int | None = None
    credit_cap: int | None = None

    @property
    def publishable(self) -> bool:
        return self.kind == PUBLISHABLE

    @property
    def capped(self) -> bool:
        """Whether its chats count against a credit cap of its own."""
        return self.credit_cap is not None

    @property
    def source(self) -> str:
        """The session namespace it chats in: its kind, never anything the request says (docs/widget.md)."""
        return "widget" if self.publishable else "api"

    @property
    def client_ip(self) -> str:
        return self.presented.client_ip

    @property
    def pow_solution(self) -> str:
        return self.presented.pow_solution


class OriginRefused(OriginNotAllowed):
    """OriginNotAllowed, carrying the channel whose widget was embedded on `origin` (the owner sees it counted)."""

    def __init__(self, channel: Channel, origin: str | None):
        super().__init__()
        self.channel, self.origin = channel, origin


class KeyRevoked(InvalidApiKey):
    """InvalidApiKey (the same answer: a caller learns nothing more), naming the revoked secret key and its
    channel, whose activity log shows the refusal."""

    def __init__(self, api_key):
        super().__init__()
        self.channel, self.key_id, self.name = api_key.channel, api_key.pk, api_key.name


class ChannelInactive(SiteInactive):
    """SiteInactive, carrying the channel it refused (its owner counts the refusal) and the CORS grant, if any."""

    def __init__(self, channel: Channel, cors_origin: str | None):
        super().__init__()
        self.channel, self.cors_origin = channel, cors_origin


async def resolve(presented: PresentedKey, *, fresh: bool = False) -> VerifiedKey:
    """The presented key, verified: from the key cache when it passes every check there, else from the database.

    Raises the API's 401 (unknown, malformed, revoked) or 403 (origin not
    allowed, channel inactive). A refusal is never given from the key cache
    alone: a channel may have been reactivated since it was cached.
    `fresh` drops the cached entry first (the generation it was read under changed).
    """
    if fresh:
        key_cache.forget(presented.cache_id)
    else:
        cached = _from_cache(presented)
        if cached is not None:
            return cached
    return await in_db_phase(_from_database, presented)


def _from_cache(presented: PresentedKey) -> VerifiedKey | None:
    found, generation = key_cache.peek(presented.cache_id)
    if found is None:
        return None
    now = timezone.now()
    if not found.is_usable(now) or not found.channel.is_active:
        return None
    if presented.publishable:
        if not found.allows_origin(presented.origin):
            return None
    elif api_key_touch_due(found, now):
        return None  # its use is due to be recorded: a database phase does that
    return _verified(presented, found, generation)


def _from_database(presented: PresentedKey) -> VerifiedKey:
    found, generation, cached = key_cache.resolve(presented.cache_id, lambda: _load(presented))
    try:
        return _checked(presented, found, generation)
    except ApiError:
        if not cached:
            raise
    key_cache.forget(presented.cache_id)  # a refusal from the cache: confirm it from the database
    found, generation, _ = key_cache.resolve(presented.cache_id, lambda: _load(presented))
    return _checked(presented, found, generation)


def _load(presented: PresentedKey):
    # Both record the key's use when due (api_key_touch) and load its channel.
    return publishable_key_authenticate(presented.raw) if presented.publishable else api_key_lookup(presented.raw)


def _checked(presented: PresentedKey, found, generation: int | None) -> VerifiedKey:
    if found is None:
        raise InvalidApiKey()
    if not found.is_usable():  # revoked, or its rotation grace ended (since it was cached)
        raise KeyRevoked(found) if not presented.publishable else InvalidApiKey()
    if presented.publishable and not found.allows_origin(presented.origin):
        raise OriginRefused(found.channel, presented.origin)
    if not presented.publishable:
        api_key_touch(found)  # a cached key's use, when due (a fresh one's was recorded as it loaded)
    verified = _verified(presented, found, generation)
    if not found.channel.is_active:
        raise ChannelInactive(found.channel, verified.cors_origin)
    return verified


def _verified(presented: PresentedKey, found, generation: int | None) -> VerifiedKey:
    if presented.publishable:
        return VerifiedKey(
            channel=found.channel, kind=PUBLISHABLE, key_id=found.pk, generation=generation,
            cors_origin=presented.origin, presented=presented, name=WIDGET_KEY_NAME,
        )
    return VerifiedKey(
        channel=found.channel,
        kind=SECRET,
        key_id=found.pk,
        generation=generation,
        cors_origin=None,
        presented=presented,
        name=found.name,
        rate_limit_per_minute=found.rate_limit_per_minute,
        credit_cap=found.credit_cap,
    )


WIDGET_KEY_NAME = "Widget (publishable key)"
