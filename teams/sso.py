"""Single sign-on per organisation: the OpenID Connect code flow with PKCE, through mozilla-django-oidc,
configured from the organisation's SsoConfig instead of from settings.

mozilla-django-oidc checks the ID token's signature (the provider's JWKS), its algorithm and the nonce;
it does not check the audience or the issuer, so `OrganisationOIDCBackend.verify_token` adds them,
and turns PyJWT's refusals (an expired token among them) into one SuspiciousOperation. Every request to the
provider (discovery, token, userinfo, JWKS) goes through gateway/infra/outbound.py: public addresses only (unless
SSO_ALLOW_PRIVATE_ISSUERS), the checked address connected to, no redirects. The claims are then held to
`checked_email`, and who they sign in is decided by teams/sso_accounts.py.
"""

import base64
import hashlib
import secrets
from urllib.parse import urlencode

import httpx
import jwt
from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.validators import validate_email

from gateway.infra import outbound
from gateway.overrides.oidc_backend import ProviderOIDCBackend
from teams import sso_accounts, sso_domains, sso_secret
from teams.models import SsoConfig

SIGN_ALGORITHM = "RS256"
SCOPES = "openid email"
UNREACHABLE = "The identity provider could not be reached."
NOT_PUBLIC = "The identity provider's address is not allowed: it must be public."


class SsoRefused(Exception):
    """The provider's answer does not let this person in; `reason` is safe to show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def fetch(method: str, url: str, **kwargs) -> httpx.Response:
    """One request to the provider under the outbound address rule; anything but a 200 is a refusal."""
    try:
        response = outbound.request(method, url, allow_private=settings.SSO_ALLOW_PRIVATE_ISSUERS,
                                    timeout=settings.SSO_TIMEOUT_SECONDS, **kwargs)
    except outbound.Refused:
        raise SsoRefused(NOT_PUBLIC) from None
    except httpx.HTTPError:
        raise SsoRefused(UNREACHABLE) from None
    if response.status_code != 200:
        raise SsoRefused(UNREACHABLE)
    return response


def fetch_json(method: str, url: str, **kwargs) -> dict:
    try:
        document = fetch(method, url, **kwargs).json()
    except ValueError:
        raise SsoRefused(UNREACHABLE) from None
    if not isinstance(document, dict):
        raise SsoRefused(UNREACHABLE)
    return document


def discover(issuer: str) -> dict:
    """The provider's endpoints from its discovery document, which must name the configured issuer."""
    document = fetch_json("GET", issuer.rstrip("/") + "/.well-known/openid-configuration")
    if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise SsoRefused("The identity provider names another issuer.")
    needed = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
    if not all(isinstance(document.get(name), str) for name in needed):
        raise SsoRefused("The identity provider's discovery document is incomplete.")
    return document


def checked_email(claims: dict) -> str:
    """The claims' address, if the provider says it verified it (`email_verified` exactly true) and it is one valid
    address; lower-cased, its domain in IDNA form. SsoRefused otherwise."""
    email = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(email, str) or not email:
        raise SsoRefused("The identity provider gave no verified e-mail address.")
    try:
        validate_email(email)
        local, _, domain = email.rpartition("@")
        domain = sso_domains.normalise(domain)
    except (ValidationError, ValueError):
        raise SsoRefused("The identity provider's e-mail address is not a valid address.") from None
    return f"{local}@{domain}".lower()


def start(config: SsoConfig, *, redirect_uri: str, link_user=None) -> tuple[str, dict]:
    """The provider's authorization URL, and what the callback needs to check its answer (kept in the session).
    With `link_user`, the answer links that member's account instead of signing someone in."""
    endpoints = discover(config.issuer)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code", "client_id": config.client_id, "redirect_uri": redirect_uri, "scope": SCOPES,
        "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256",
    }
    pending = {"org": str(config.organisation.public_id), "state": state, "nonce": nonce, "verifier": verifier,
               "link": link_user.pk if link_user is not None else None}
    return f"{endpoints['authorization_endpoint']}?{urlencode(query)}", pending


class OrganisationOIDCBackend(ProviderOIDCBackend):
    """mozilla-django-oidc's backend for one organisation's provider, every request to it under the outbound
    address rule (the library's own requests are replaced in gateway/overrides/oidc_backend.py). Not in
    AUTHENTICATION_BACKENDS: the callback view builds it for the organisation the login started for."""

    def __init__(self, config: SsoConfig, endpoints: dict, link_user=None):
        super().__init__(
            endpoints, client_id=config.client_id, sign_algorithm=SIGN_ALGORITHM,
            client_secret=sso_secret.decrypt(config.client_secret_ciphertext, config.organisation.public_id),
        )
        self.config = config
        self.issuer = endpoints["issuer"]
        self.link_user = link_user

    def provider_json(self, method: str, url: str, **kwargs) -> dict:
        return fetch_json(method, url, **kwargs)

    def verify_token(self, token, **kwargs):
        try:
            payload = super().verify_token(token, **kwargs)
            jwt.decode(
                token, self.retrieve_matching_jwk(token), algorithms=[SIGN_ALGORITHM], audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.issuer, options={"require": ["exp", "iat", "aud", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise SuspiciousOperation("expired ID token") from None
        except jwt.InvalidAudienceError:
            raise SuspiciousOperation("ID token for another client (audience)") from None
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token refused: {type(exc).__name__}") from None
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        # SsoRefused passes through the library's authenticate(), which only catches SuspiciousOperation.
        claims = self.get_userinfo(access_token, id_token, payload)
        subject = payload.get("sub")
        if not isinstance(subject, str) or not subject or claims.get("sub") != subject:
            raise SsoRefused("The identity provider's answer names two different people.")
        try:
            if self.link_user is not None:
                sso_accounts.identity_link(config=self.config, issuer=self.issuer, subject=subject,
                                           user=self.link_user, request=self.request)
                return self.link_user
            email = checked_email(claims)
            return sso_accounts.account_for(config=self.config, issuer=self.issuer, subject=subject, email=email,
                                            request=self.request)
        except sso_accounts.Refused as exc:
            raise SsoRefused(exc.reason) from None


def finish(request, pending: dict, config: SsoConfig, link_user=None):
    """Check the provider's answer to `pending` and return the user it signs in (made if new), or `link_user` once
    linked to it; SsoRefused otherwise."""
    if not secrets.compare_digest(request.GET.get("state", ""), pending["state"]):
        raise SsoRefused("The sign-in answer does not match this browser's request.")
    if "error" in request.GET:
        raise SsoRefused("The identity provider refused the sign-in.")
    backend = OrganisationOIDCBackend(config, discover(config.issuer), link_user=link_user)
    try:
        user = backend.authenticate(request, nonce=pending["nonce"], code_verifier=pending["verifier"])
    except SuspiciousOperation as exc:
        raise SsoRefused(_REASONS.get(str(exc), "The identity provider's answer was refused.")) from None
    if user is None:
        raise SsoRefused("The identity provider's answer was refused.")
    return user


_REASONS = {
    "expired ID token": "The identity provider's token has expired. Try again.",
    "ID token for another client (audience)": "The identity provider's token was issued for another application.",
}
