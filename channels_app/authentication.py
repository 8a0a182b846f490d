"""The API's key edge, part one: the `X-API-Key` header (or a publishable key in `?key=`) parsed.

`ApiKeyAuthentication` (DRF's public authentication hook) only parses: it refuses
a missing or malformed key without touching the database and hands on a
`PresentedKey`. The view then resolves it, once, into a `VerifiedKey`
(channels_app/credentials.py) before its handler runs; nothing downstream looks
at the raw key again.
"""

from dataclasses import dataclass, field

from rest_framework.authentication import BaseAuthentication

from accounts.client_ip import client_ip
from channels_app import keys
from gateway.infra.endpoints import PUBLISHABLE, SECRET
from gateway.infra.errors import InvalidApiKey, MissingApiKey, SecretKeyInUrl

HEADER = "HTTP_X_API_KEY"
BEARER = "Bearer "  # the OpenAI-compatible API's `Authorization: Bearer amgai_…`
QUERY = "key"  # where a browser passes its publishable key (a CORS preflight carries no header values)


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


class ApiKeyAuthentication(BaseAuthentication):
    """`X-API-Key` (or, for a publishable key, the `key` query parameter) → `request.auth` as a PresentedKey.

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
            return (None, PresentedKey(
                raw, publishable=True, origin=request.META.get("HTTP_ORIGIN"), client_ip=client_ip(request),
                pow_solution=request.META.get("HTTP_X_ALTCHA", "").strip(),
            ))
        if query or not keys.is_well_formed(raw):
            raise InvalidApiKey()
        return (None, PresentedKey(raw))

    def authenticate_header(self, request):
        return "X-API-Key"


class BearerKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer amgai_…` (the OpenAI-compatible API, /v1/) → `request.auth` as a PresentedKey.

    Parses only, like ApiKeyAuthentication: a missing or malformed key is
    refused without a query. Which kind of key /v1/ takes (secret only) is the
    endpoint table's to say (gateway/infra/endpoints.py), as for /api/.
    """

    def authenticate(self, request):
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
