from dataclasses import dataclass

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication

from accounts.client_ip import client_ip
from channels_app import key_cache, keys
from channels_app.models import ApiKey, Channel, PublishableKey
from channels_app.selectors import api_key_authenticate, api_key_touch, api_key_touch_due, publishable_key_authenticate
from gateway.errors import ApiError, InvalidApiKey, MissingApiKey, OriginNotAllowed, SecretKeyInUrl, SiteInactive

HEADER = "HTTP_X_API_KEY"
QUERY = "key"  # where a browser passes its publishable key (a CORS preflight carries no header values)


@dataclass
class PresentedKey:
    """A well-formed `X-API-Key`, checked against the database (or the key cache) by `verify()`.

    The check is deferred to the request's first database phase, so a chat
    makes one trip off the event loop for the key, its limits and its credit
    together instead of one for each.
    """

    raw: str
    api_key: ApiKey | None = None
    # The key cache's generation `api_key` was read under; None when it came from the database uncached.
    generation: int | None = None
    _cached: bool = False  # whether api_key came from the key cache
    publishable = False
    cors_origin = None  # a secret key never gets a CORS grant

    def verify(self) -> ApiKey:
        """The usable key, its channel loaded; raises the API's 401/403. Call inside a database phase.

        A refusal based on the key cache is checked against the database before
        it is given (a channel may have been reactivated since it was cached).
        """
        try:
            return self._verify()
        except ApiError:
            if not self._cached:
                raise
            self.forget()
            return self._verify()

    def _verify(self) -> ApiKey:
        if self.api_key is None:
            found, generation, self._cached = key_cache.resolve(self._cache_id(), lambda: api_key_authenticate(self.raw))
            if found is None or not found.is_usable():  # not usable: cached, and its rotation grace ended since
                raise InvalidApiKey()
            self.api_key, self.generation = found, generation
            api_key_touch(found)
        if not self.api_key.channel.is_active:
            raise SiteInactive()
        return self.api_key

    def verify_cached(self) -> bool:
        """verify() from the key cache alone, with no I/O at all (for the event-loop chat path, gateway/adb.py).

        True when the key is cached and passes every check; False when verify()
        has to decide (not cached, a refusal to confirm, its use due to be
        recorded), and then nothing is kept.
        """
        if self.api_key is not None:
            return self._cached and self.generation is not None and self.api_key.channel.is_active
        found, generation = key_cache.peek(self._cache_id())
        if found is None or not self._passes(found):
            return False
        self.api_key, self.generation, self._cached = found, generation, True
        return True

    def _passes(self, api_key: ApiKey) -> bool:
        now = timezone.now()
        return api_key.is_usable(now) and api_key.channel.is_active and not api_key_touch_due(api_key, now)

    def verify_current(self):
        """verify(), with a key from the key cache checked to be current: for requests that count no limit
        (those that do check it in the same round trip as their counters, conversations/admission.py)."""
        found = self.verify()
        if self._cached and key_cache.current_generation() != self.generation:
            self.forget()
            found = self.verify()
        return found

    def forget(self) -> None:
        """Drop what verify() read (the key cache's entry was stale); the next verify() reads the database."""
        key_cache.forget(self._cache_id())
        self.api_key = self.generation = None
        self._cached = False

    def _cache_id(self) -> str:
        return "sk:" + keys.digest(self.raw)

    @property
    def channel(self) -> Channel | None:
        """The key's channel once verified (also when it was then refused as inactive)."""
        return self.api_key.channel if self.api_key is not None else None


@dataclass
class PresentedPublishableKey(PresentedKey):
    """A well-formed `amgpk_` key with the request's Origin and client address.

    `verify()` also checks the Origin against the channel's allowed origins;
    once it matched, `cors_origin` is what the answer may grant CORS to.
    """

    api_key: PublishableKey | None = None
    origin: str | None = None
    client_ip: str = ""
    cors_origin: str | None = None
    pow_solution: str = ""  # the `X-Altcha` header: a solved proof-of-work challenge (conversations/proof_of_work.py)
    publishable = True

    def _verify(self) -> PublishableKey:
        if self.api_key is None:
            found, generation, self._cached = key_cache.resolve(self._cache_id(), lambda: publishable_key_authenticate(self.raw))
            if found is None or not found.is_usable():
                raise InvalidApiKey()
            if not found.allows_origin(self.origin):
                raise OriginNotAllowed()
            self.api_key, self.generation, self.cors_origin = found, generation, self.origin
        if not self.api_key.channel.is_active:
            raise SiteInactive()
        return self.api_key

    def forget(self) -> None:
        super().forget()
        self.cors_origin = None

    def verify_cached(self) -> bool:
        if not super().verify_cached():
            return False
        self.cors_origin = self.origin
        return True

    def _passes(self, publishable: PublishableKey) -> bool:
        return publishable.is_usable() and publishable.allows_origin(self.origin) and publishable.channel.is_active

    def _cache_id(self) -> str:
        return "pk:" + self.raw


class ApiKeyAuthentication(BaseAuthentication):
    """`X-API-Key` (or, for a publishable key, the `key` query parameter) → `request.auth`.

    Missing and malformed keys are refused here, without a query; unknown,
    malformed and revoked keys all get the same answer, so a caller learns
    nothing about which keys exist. A secret key in the URL is refused outright.
    """

    def authenticate(self, request):
        header = request.META.get(HEADER, "").strip()
        query = request.query_params.get(QUERY, "").strip()
        if query.startswith(keys.PREFIX):
            raise SecretKeyInUrl()
        if QUERY in request.query_params and header and query != header:  # `?key=` beside a header is a second key
            raise InvalidApiKey()
        raw = query or header
        if not raw:
            raise MissingApiKey()
        if keys.is_well_formed_publishable(raw):
            return (None, PresentedPublishableKey(
                raw, origin=request.META.get("HTTP_ORIGIN"), client_ip=client_ip(request),
                pow_solution=request.META.get("HTTP_X_ALTCHA", "").strip(),
            ))
        if query or not keys.is_well_formed(raw):
            raise InvalidApiKey()
        return (None, PresentedKey(raw))

    def authenticate_header(self, request):
        return "X-API-Key"
