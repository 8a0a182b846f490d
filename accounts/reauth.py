"""Recent-login checks: revealing or rotating a key needs a password entered lately.

The time of the last password entry (a login or a confirmation) is kept in the
session; `is_recent` compares it with REAUTH_WINDOW_SECONDS.
"""

import time

from django.conf import settings
from django.http import HttpRequest

SESSION_KEY = "accounts_password_at"


def now() -> float:
    """The clock password entries are stamped with (epoch seconds); test helpers backdate entries with it."""
    return time.time()


def mark_recent(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = now()


def is_recent(request: HttpRequest) -> bool:
    entered_at = request.session.get(SESSION_KEY)
    if not isinstance(entered_at, (int, float)):
        return False
    return 0 <= now() - entered_at < settings.REAUTH_WINDOW_SECONDS


def on_login(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver: a login is a fresh password entry."""
    if request is not None and hasattr(request, "session"):
        mark_recent(request)
