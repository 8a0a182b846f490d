from rest_framework.authentication import BaseAuthentication

from channels_app.selectors import api_key_authenticate
from gateway.errors import InvalidApiKey, MissingApiKey, SiteInactive

HEADER = "HTTP_X_API_KEY"


class ApiKeyAuthentication(BaseAuthentication):
    """`X-API-Key` → `request.auth` (the ApiKey, its channel loaded).

    Unknown, malformed and revoked keys get the same answer, so a caller
    learns nothing about which keys exist.
    """

    def authenticate(self, request):
        raw = request.META.get(HEADER, "").strip()
        if not raw:
            raise MissingApiKey()
        api_key = api_key_authenticate(raw)
        if api_key is None:
            raise InvalidApiKey()
        # Known from here on, so a refusal below can be counted for the owner.
        request.gateway_channel = api_key.channel
        if not api_key.channel.is_active:
            raise SiteInactive()
        return (None, api_key)

    def authenticate_header(self, request):
        return "X-API-Key"
