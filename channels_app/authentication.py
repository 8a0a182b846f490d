"""The API's key edge: the key a request presents, parsed, refused by kind, and resolved once.

`authenticate` (DRF's public authentication hook, run by `initial()`) only parses: it refuses a missing or
malformed key without touching the database and hands on a `PresentedKey`. `resolve` (run by the API view's
dispatch right after, on the event loop: gateway/overrides/api_view.py) refuses a key of a kind the endpoint does
not take, from the endpoint table and by the key's form alone, then verifies it once into a `VerifiedKey`
(channels_app/credentials.py). The view's handler gets the `VerifiedKey` in `request.auth`; nothing downstream
looks at the raw key or its kind again.
"""

from rest_framework.authentication import BaseAuthentication

from accounts.client_ip import client_ip
from channels_app import credentials, keys
from channels_app.credentials import PresentedKey, VerifiedKey
from gateway.infra import cors
from gateway.infra.endpoints import endpoint_at
from gateway.infra.errors import InvalidApiKey, MissingApiKey, SecretKeyInUrl, wrong_key_kind

HEADER = "HTTP_X_API_KEY"
BEARER = "Bearer "  # the OpenAI-compatible API's `Authorization: Bearer amgai_…`
QUERY = "key"  # where a browser passes its publishable key (a CORS preflight carries no header values)


class KeyAuthentication(BaseAuthentication):
    """What both API key schemes share: a CORS preflight let through, the parsed key resolved once before the
    view's handler runs."""

    def authenticate(self, request):
        if cors.is_preflight(request):
            return None  # it carries no key header: the view's OPTIONS handler answers it by the ?key= and Origin
        return self.parse(request)

    def parse(self, request) -> tuple[None, PresentedKey]:
        raise NotImplementedError

    async def resolve(self, request, presented: PresentedKey) -> VerifiedKey:
        """The key the endpoint may take, verified (channels_app/credentials.py).

        The kind is checked first, from the endpoint table, by the key's form and before any query (a refusal
        names no channel); HEAD is held to GET's kinds. Then the key is verified: from the key cache with no
        I/O, else in one database phase.
        """
        refused = wrong_key_kind(endpoint_at(request.path_info), request.method, presented.kind)
        if refused is not None:
            raise refused
        return await credentials.resolve(presented)


class ApiKeyAuthentication(KeyAuthentication):
    """`X-API-Key` (or, for a publishable key, the `key` query parameter) → `request.auth` as a PresentedKey.

    Missing and malformed keys are refused here, without a query; unknown,
    malformed and revoked keys all get the same answer, so a caller learns
    nothing about which keys exist. A secret key in the URL is refused outright.
    """

    def parse(self, request):
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
            return (None, PresentedKey(
                raw, publishable=True, origin=request.META.get("HTTP_ORIGIN"), client_ip=client_ip(request),
                pow_solution=request.META.get("HTTP_X_ALTCHA", "").strip(),
            ))
        if query or not keys.is_well_formed(raw):
            raise InvalidApiKey()
        return (None, PresentedKey(raw))

    def authenticate_header(self, request):
        return "X-API-Key"


class BearerKeyAuthentication(KeyAuthentication):
    """`Authorization: Bearer amgai_…` (the OpenAI-compatible API, /v1/) → `request.auth` as a PresentedKey.

    Parses only, like ApiKeyAuthentication: a missing or malformed key is
    refused without a query. Which kind of key /v1/ takes (secret only) is the
    endpoint table's to say (gateway/infra/endpoints.py), as for /api/.
    """

    def parse(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "").strip()
        if not header:
            raise MissingApiKey()
        scheme, _, raw = header.partition(" ")
        raw = raw.strip()
        if scheme.lower() != BEARER.strip().lower() or not raw:
            raise InvalidApiKey()
        if keys.is_well_formed_publishable(raw):
            return (None, PresentedKey(raw, publishable=True))
        if not keys.is_well_formed(raw):
            raise InvalidApiKey()
        return (None, PresentedKey(raw))

    def authenticate_header(self, request):
        return "Bearer"
