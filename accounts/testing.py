"""A browser-like HTTP client for dashboard tests against the real, running gateway.

It keeps cookies, and `submit()` sends the CSRF token the way a form does, so
CSRF protection is exercised for real (Django's test client would skip it).
"""

from importlib import import_module

import httpx
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from accounts import reauth, throttle
from gateway.testing import loopback

BACKEND = "django.contrib.auth.backends.ModelBackend"


LOOPBACK = ("127.0.0.1", "::1")


def reset_account_throttles() -> None:
    """Forget the sign-up and resend counts of the test clients' addresses (the cache outlives a test)."""
    for address in LOOPBACK:
        for action in ("signup", "resend-ip"):
            throttle.reset(action, address)


class WebClient(loopback.Client):
    def __init__(self, **kwargs):
        kwargs.setdefault("timeout", 30)
        super().__init__(**kwargs)

    def force_login(self, user, *, password_age_seconds: float = 0) -> None:
        """Start a logged-in session without the login form (no password hashing, no lockout counting)."""
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = BACKEND
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store[reauth.SESSION_KEY] = reauth.now() - password_age_seconds
        store.create()
        self.cookies.set(settings.SESSION_COOKIE_NAME, store.session_key)

    def age_password_entry(self, seconds: float) -> None:
        """Pretend the last password entry of this session was `seconds` ago."""
        store = import_module(settings.SESSION_ENGINE).SessionStore(self.cookies[settings.SESSION_COOKIE_NAME])
        store[reauth.SESSION_KEY] = reauth.now() - seconds
        store.save()

    @property
    def csrf_token(self) -> str:
        token = self.cookies.get(settings.CSRF_COOKIE_NAME)
        if token is None:
            self.get("/accounts/password/reset/")  # any page with a form sets the cookie
            token = self.cookies[settings.CSRF_COOKIE_NAME]
        return token

    def submit(self, url: str, data: dict | None = None, **kwargs) -> httpx.Response:
        """POST a form the way a browser does, with its CSRF token."""
        return self.post(url, data={"csrfmiddlewaretoken": self.csrf_token, **(data or {})}, **kwargs)
