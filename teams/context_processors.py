"""The organisation a dashboard page is about, the user's role there, and the switcher's list."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from teams.current import organisations_of
from teams.policy import Allowed


def organisation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    role = getattr(request, "role", None)
    return {
        "organisation": getattr(request, "organisation", None),
        "role": role,
        "allowed": Allowed(role),
        # Only queried by a page that shows the switcher.
        "organisations": SimpleLazyObject(lambda: organisations_of(user)),
    }
