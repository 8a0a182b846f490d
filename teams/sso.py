"""Single sign-on per organisation (issue 17 point 4): the OpenID Connect code flow with PKCE, through
mozilla-django-oidc, configured from the organisation's SsoConfig instead of from settings.

mozilla-django-oidc checks the ID token's signature (the provider's JWKS), its algorithm and the nonce;
it does not check the audience or the issuer, so `OrganisationOIDCBackend.verify_token` adds them,
and turns PyJWT's refusals (an expired token among them) into one SuspiciousOperation. Claims are then
held to the organisation's allowed e-mail domains.
"""

import base64
import hashlib
import secrets
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from teams import sso_secret
from teams.models import SsoConfig

SIGN_ALGORITHM = "RS256"
SCOPES = "openid email"


class SsoRefused(Exception):
    """The provider's answer does not let this person in; `reason` is safe to show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def discover(issuer: str) -> dict:
    """The provider's endpoints from its discovery document, which must name the configured issuer."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.SSO_TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError):
        raise SsoRefused("The identity provider could not be reached.") from None
    if document.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise SsoRefused("The identity provider names another issuer.")
    return document


def domain_allowed(config: SsoConfig, email: str) -> bool:
    return email.rpartition("@")[2].lower() in config.allowed_domains


def start(config: SsoConfig, *, redirect_uri: str) -> tuple[str, dict]:
    """The provider's authorization URL, and what the callback needs to check its answer (kept in the session)."""
    endpoints = discover(config.issuer)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code", "client_id": config.client_id, "redirect_uri": redirect_uri, "scope": SCOPES,
        "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256",
    }
    pending = {"org": str(config.organisation.public_id), "state": state, "nonce": nonce, "verifier": verifier}
    return f"{endpoints['authorization_endpoint']}?{urlencode(query)}", pending


class OrganisationOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend for one organisation's provider. Not in AUTHENTICATION_BACKENDS: the
    callback view builds it for the organisation the login started for."""

    def __init__(self, config: SsoConfig, endpoints: dict):
        # Not super().__init__(), which reads one provider from settings: the attributes it would set, per organisation.
        self.UserModel = get_user_model()
        self.config = config
        self.issuer = endpoints["issuer"]
        self.OIDC_OP_TOKEN_ENDPOINT = endpoints["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = endpoints["userinfo_endpoint"]
        self.OIDC_OP_JWKS_ENDPOINT = endpoints["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = config.client_id
        self.OIDC_RP_CLIENT_SECRET = sso_secret.decrypt(config.client_secret_ciphertext, config.organisation.public_id)
        self.OIDC_RP_SIGN_ALGO = SIGN_ALGORITHM
        self.OIDC_RP_IDP_SIGN_KEY = None

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

    def verify_claims(self, claims) -> bool:
        email = (claims.get("email") or "").lower()
        if not email or claims.get("email_verified") is False:
            raise SuspiciousOperation("no verified e-mail address")
        if not domain_allowed(self.config, email):
            raise SuspiciousOperation("e-mail domain not allowed")
        return True

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(email__iexact=claims["email"])

    def create_user(self, claims):
        email = claims["email"].lower()
        user = self.UserModel.objects.create_user(username=email, email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        return user

    def get_or_create_user(self, access_token, id_token, payload):
        # The library's authenticate() logs and swallows a SuspiciousOperation from here; the callback
        # shows the reason, so it is kept.
        try:
            user_info = self.get_userinfo(access_token, id_token, payload)
            self.verify_claims(user_info)
            users = list(self.filter_users_by_claims(user_info)[:2])
            if len(users) > 1:
                raise SuspiciousOperation("several accounts have this address")
        except SuspiciousOperation as exc:
            self.refusal = str(exc)
            raise
        return users[0] if users else self.create_user(user_info)


def finish(request, pending: dict, config: SsoConfig):
    """Check the provider's answer to `pending` and return the user it names (made if new); SsoRefused otherwise."""
    if not secrets.compare_digest(request.GET.get("state", ""), pending["state"]):
        raise SsoRefused("The sign-in answer does not match this browser's request.")
    if "error" in request.GET:
        raise SsoRefused("The identity provider refused the sign-in.")
    backend = OrganisationOIDCBackend(config, discover(config.issuer))
    try:
        user = backend.authenticate(request, nonce=pending["nonce"], code_verifier=pending["verifier"])
    except SuspiciousOperation as exc:
        raise SsoRefused(_REASONS.get(str(exc), "The identity provider's answer was refused.")) from None
    except requests.RequestException:
        raise SsoRefused("The identity provider could not be reached.") from None
    if user is None:
        refusal = getattr(backend, "refusal", "")
        raise SsoRefused(_REASONS.get(refusal, "The identity provider's answer was refused."))
    return user


_REASONS = {
    "expired ID token": "The identity provider's token has expired. Try again.",
    "ID token for another client (audience)": "The identity provider's token was issued for another application.",
    "e-mail domain not allowed": "Your e-mail domain may not sign in to this organisation.",
    "no verified e-mail address": "The identity provider gave no verified e-mail address.",
}
