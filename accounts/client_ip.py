"""The client's address as the edge proxy saw it; django-axes throttles by it."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or with TRUSTED_PROXY_COUNT=N the address the outermost of N proxies appended.

    Only the entries our own proxies wrote are trusted: a client can put anything
    at the start of X-Forwarded-For, but not at its end.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < count:
        return remote
    return hops[-count]
