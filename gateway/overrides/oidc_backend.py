"""Override: `ProviderOIDCBackend`, mozilla-django-oidc's backend for a provider given per call, fetched through one door.

What it replaces (mozilla-django-oidc 5.0.2): `OIDCAuthenticationBackend.__init__`, which reads one
provider from settings (its endpoints, client id and secret), and the three methods that call the
provider with `requests` themselves:

- `get_token` (POST to the token endpoint),
- `get_userinfo` (GET the userinfo endpoint with the access token; the library also accepts a userinfo
  answer signed as a JWT, which this one, asking for JSON, does not),
- `retrieve_matching_jwk` (GET the JWKS and pick the key of the token's `kid` and algorithm).

Here the provider comes as arguments (one organisation's, teams/sso.py builds the backend per login)
and every request to it goes through `provider_json(method, url, **kwargs)`, which the subclass
implements under the gateway's outbound address rule (gateway/infra/outbound.py). The rest of the
library (`authenticate`, the code exchange with PKCE, `verify_token`'s signature, algorithm and
nonce checks) runs as written.

Why (docs/security.md, row 25 "The server's own network"): the library's requests follow redirects
and connect to whatever address the provider's discovery document names, loopback and private ones
included: an organisation admin could make the server fetch its own network (server-side request
forgery). Not a speed override: the library has no hook for the HTTP client it uses.

Guarded by gateway/tests/test_overrides.py::test_framework_code_the_overrides_copy_is_unchanged (the
fingerprints below: when the library changes one of these methods, re-check this module) and
teams/tests/test_sso_attacks.py::test_the_token_userinfo_and_jwks_urls_obey_the_address_rule.
"""

import jwt
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

RELIES_ON = {
    "mozilla_django_oidc.auth.OIDCAuthenticationBackend.__init__": "fe7bdfbaf71045a7",
    "mozilla_django_oidc.auth.OIDCAuthenticationBackend.get_token": "ec2d29758f8c5ed4",
    "mozilla_django_oidc.auth.OIDCAuthenticationBackend.get_userinfo": "38384971e7891a71",
    "mozilla_django_oidc.auth.OIDCAuthenticationBackend.retrieve_matching_jwk": "28f7c0769e49eee7",
}


class ProviderOIDCBackend(OIDCAuthenticationBackend):
    """The library's backend for the provider `endpoints` names (its discovery document) and one client of it."""

    def __init__(self, endpoints: dict, *, client_id: str, client_secret: str, sign_algorithm: str):
        # Not super().__init__(), which reads one provider from settings: the attributes it would set, given.
        self.UserModel = get_user_model()
        self.OIDC_OP_TOKEN_ENDPOINT = endpoints["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = endpoints["userinfo_endpoint"]
        self.OIDC_OP_JWKS_ENDPOINT = endpoints["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = client_id
        self.OIDC_RP_CLIENT_SECRET = client_secret
        self.OIDC_RP_SIGN_ALGO = sign_algorithm
        self.OIDC_RP_IDP_SIGN_KEY = None

    def provider_json(self, method: str, url: str, **kwargs) -> dict:
        """One request to the provider, answered with a JSON object; the subclass decides how it is sent."""
        raise NotImplementedError

    def retrieve_matching_jwk(self, token):
        """The provider's key for this token (its `kid` and algorithm), from its JWKS."""
        header = jwt.get_unverified_header(token)
        keys = self.provider_json("GET", self.OIDC_OP_JWKS_ENDPOINT).get("keys")
        for key in keys if isinstance(keys, list) else []:
            if isinstance(key, dict) and key.get("kid") == header.get("kid") and key.get("alg", header.get("alg")) == header.get("alg"):
                return jwt.PyJWK(key)
        raise SuspiciousOperation("Could not find a valid JWKS.")

    def get_token(self, payload):
        return self.provider_json("POST", self.OIDC_OP_TOKEN_ENDPOINT, data=payload)

    def get_userinfo(self, access_token, id_token, payload):
        return self.provider_json("GET", self.OIDC_OP_USER_ENDPOINT, headers={"Authorization": f"Bearer {access_token}"})
