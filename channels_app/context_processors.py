"""What every dashboard page needs to know about the gateway itself."""

from django.http import HttpRequest

from conversations.provider import is_demo


def gateway_state(request: HttpRequest) -> dict:
    """`demo_mode`: replies come from the built-in offline provider (no LLM_API_KEY), so no model is connected."""
    user = getattr(request, "user", None)
    return {"demo_mode": bool(user and user.is_authenticated) and is_demo()}
