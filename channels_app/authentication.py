from dataclasses import dataclass

from rest_framework.authentication import BaseAuthentication

from accounts.client_ip import client_ip
from channels_app import keys
from channels_app.models import ApiKey, Channel, PublishableKey
from channels_app.selectors import api_key_authenticate, publishable_key_authenticate
from gateway.errors import InvalidApiKey, MissingApiKey, OriginNotAllowed, SecretKeyInUrl, SiteInactive

HEADER = "HTTP_X_API_KEY"
QUERY = "key"  # where a browser passes its publishable key (a CORS preflight carries no header values)


@dataclass
class PresentedKey:
    """A well-formed `X-API-Key`, checked against the database by `verify()`.

    The check is deferred to the request's first database phase, so a chat
    makes one trip off the event loop for the key, its limits and its credit
    together instead of one for each.
    """

    raw: str
    api_key: ApiKey | None = None
    publishable = False
    cors_origin = None  # a secret key never gets a CORS grant

    def verify(self) -> ApiKey:
        """The usable key, its channel loaded; raises the API's 401/403. Call inside a database phase."""
        if self.api_key is None:
            api_key = api_key_authenticate(self.raw)
            if api_key is None:
                raise InvalidApiKey()
            self.api_key = api_key
        if not self.api_key.channel.is_active:
            raise SiteInactive()
        return self.api_key

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
    publishable = True

    def verify(self) -> PublishableKey:
        if self.api_key is None:
            publishable = publishable_key_authenticate(self.raw)
            if publishable is None:
                raise InvalidApiKey()
            if not publishable.allows_origin(self.origin):
                raise OriginNotAllowed()
            self.api_key, self.cors_origin = publishable, self.origin
        if not self.api_key.channel.is_active:
            raise SiteInactive()
        return self.api_key


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
            return (None, PresentedPublishableKey(raw, origin=request.META.get("HTTP_ORIGIN"), client_ip=client_ip(request)))
        if query or not keys.is_well_formed(raw):
            raise InvalidApiKey()
        return (None, PresentedKey(raw))

    def authenticate_header(self, request):
        return "X-API-Key"
