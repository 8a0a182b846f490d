"""What every dashboard page needs to know about the gateway itself."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from channels_app.providers.catalog import is_demo
from dashboard import selectors


def gateway_state(request: HttpRequest) -> dict:
    """`demo_mode`: replies come from the built-in offline provider (no LLM_API_KEY), so no model is connected.

    `owner_notices`: what the gateway changed on the owner's channels (a retired model), until dismissed; lazy,
    so a page that does not show them (none outside base.html's signed-in part) does not query.
    """
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "demo_mode": signed_in and is_demo(),
        "owner_notices": SimpleLazyObject(lambda: selectors.open_notices(user) if signed_in else []),
    }
