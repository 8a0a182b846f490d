"""The organisation a dashboard page is about, the user's role there, and the switcher's list."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from teams.current import current_organisation, organisations_of
from teams.policy import Allowed, role_in


def organisation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    organisation = getattr(request, "organisation", None)
    role = getattr(request, "role", None) if organisation is not None else None
    if organisation is None:
        # A page outside the policy (the account's, an error page): the top bar still shows the
        # organisation the user works in, with their role there.
        organisation = SimpleLazyObject(lambda: current_organisation(request))
        role = SimpleLazyObject(lambda: role_in(user, organisation))
    return {
        "organisation": organisation,
        "role": role,
        "allowed": Allowed(role),
        # Only queried by a page that shows the switcher.
        "organisations": SimpleLazyObject(lambda: organisations_of(user)),
    }
