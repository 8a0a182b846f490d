"""A real OpenID provider on loopback for the SSO tests: django-oauth-toolkit in its own process.

`OidcProvider(redirect_uri=...).start()` migrates a fresh SQLite file, registers one confidential client
(authorization code, RS256) and serves on a free port. Its users sign in at /login/ with PASSWORD.

It is an honest provider, except that it can be told to misbehave for one user, so the gateway's checks are
tested against real signed tokens: a user whose address starts with "expired" gets an ID token that expired an
hour ago, one starting with "wrongaud" a token for another client (its `aud`), and `assert_claims(username, ...)`
makes it assert any claims for a user (in the ID token and from userinfo): another `sub`, an odd `email`,
`email_verified` false or left out (ABSENT). Any username signs in with PASSWORD (made on first sign-in).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from gateway.testing import loopback

CLIENT_ID = "ai-gateway"
CLIENT_SECRET = "provider-client-secret-for-tests"
PASSWORD = "pw-provider-123!"
ABSENT = "__absent__"

def _serve(port: int, redirect_uri: str, users: list[str]) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import Application

    call_command("migrate", run_syncdb=True, verbosity=0)
    for email in users:
        get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    Application.objects.create(
        name="AI Gateway", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE, redirect_uris=redirect_uri,
        algorithm=Application.RS256_ALGORITHM, skip_authorization=True,
    )
    import uvicorn
    from django.core.asgi import get_asgi_application

    uvicorn.run(get_asgi_application(), host="127.0.0.1", port=port, log_level="warning")


class OidcProvider:
    def __init__(self, *, redirect_uri: str, users: list[str]):
        from gateway.testing.processes import free_port

        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        self.redirect_uri = redirect_uri
        self.users = users
        self.dir = tempfile.TemporaryDirectory()
        self.process = None
        self.claims_file = str(Path(self.dir.name) / "claims.json")
        self.claims: dict[str, dict] = {}

    def assert_claims(self, username: str, **claims) -> None:
        """From now on, the provider asserts these claims for `username` (ABSENT leaves one out)."""
        self.claims[username] = claims
        self._write_claims()

    def reset_claims(self) -> None:
        self.claims = {}
        self._write_claims()

    def _write_claims(self) -> None:
        temporary = self.claims_file + ".tmp"
        with open(temporary, "w") as f:
            json.dump(self.claims, f)
        os.replace(temporary, self.claims_file)  # the provider never reads half a file

    def start(self) -> "OidcProvider":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))},
            "DJANGO_SETTINGS_MODULE": "gateway.testing.oidc_provider_settings",
            "OIDC_PROVIDER_DB": str(Path(self.dir.name) / "provider.sqlite3"),
            "OIDC_PROVIDER_RSA_KEY": key.decode(),
            "OIDC_PROVIDER_ISSUER": self.issuer,
            "OIDC_PROVIDER_CLAIMS": self.claims_file,
        }
        code = (
            "import sys; from gateway.testing.oidc_provider import _serve; "
            f"_serve({self.port}, {self.redirect_uri!r}, {self.users!r})"
        )
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen([sys.executable, "-c", code], cwd=root, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the OpenID provider exited")
            try:
                if loopback.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the OpenID provider did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.dir.cleanup()
