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


# Sudo mode: the POST that needed a fresh password is kept, and replayed once the password is
# confirmed, so the reveal or rotation the owner started completes (accounts.views.confirm_password).
ACTION_SESSION_KEY = "accounts_pending_action"
ACTION_MAX_AGE_SECONDS = 600


def remember_action(request: HttpRequest, *, label: str) -> None:
    """Keep this dashboard POST (its path and fields, not its CSRF token) to replay after the password."""
    data = {name: value for name, value in request.POST.items() if name != "csrfmiddlewaretoken"}
    request.session[ACTION_SESSION_KEY] = {"path": request.path, "data": data, "label": label, "at": now()}


def pop_action(request: HttpRequest) -> dict | None:
    """The kept POST, once: only a dashboard path, only if it is recent."""
    action = request.session.pop(ACTION_SESSION_KEY, None)
    if not isinstance(action, dict) or not str(action.get("path", "")).startswith("/dashboard/"):
        return None
    if not 0 <= now() - action.get("at", 0) < ACTION_MAX_AGE_SECONDS:
        return None
    return action
