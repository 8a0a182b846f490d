from dataclasses import dataclass

from rest_framework.authentication import BaseAuthentication

from channels_app import keys
from channels_app.models import ApiKey, Channel
from channels_app.selectors import api_key_authenticate
from gateway.errors import InvalidApiKey, MissingApiKey, SiteInactive

HEADER = "HTTP_X_API_KEY"


@dataclass
class PresentedKey:
    """A well-formed `X-API-Key`, checked against the database by `verify()`.

    The check is deferred to the request's first database phase, so a chat
    makes one trip off the event loop for the key, its limits and its credit
    together instead of one for each.
    """

    raw: str
    api_key: ApiKey | None = None

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


class ApiKeyAuthentication(BaseAuthentication):
    """`X-API-Key` → `request.auth`, a PresentedKey.

    Missing and malformed keys are refused here, without a query; unknown,
    malformed and revoked keys all get the same answer, so a caller learns
    nothing about which keys exist.
    """

    def authenticate(self, request):
        raw = request.META.get(HEADER, "").strip()
        if not raw:
            raise MissingApiKey()
        if not keys.is_well_formed(raw):
            raise InvalidApiKey()
        return (None, PresentedKey(raw))

    def authenticate_header(self, request):
        return "X-API-Key"
