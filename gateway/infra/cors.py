"""CORS for the embeddable widget: granted per channel, only to a publishable key's allowed origins.

The view base (conversations/edge/views.py) decides; this module only writes the
headers. A secret key's answers never carry any Access-Control-* header.
"""

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Content-Type, Idempotency-Key, X-Altcha"  # X-Altcha: the widget's proof of work
EXPOSE_HEADERS = "Retry-After, Idempotent-Replayed"
MAX_AGE_SECONDS = 600  # browsers cap it lower (Chromium: 2 h); the real request is checked anyway


def is_preflight(request: HttpRequest) -> bool:
    return request.method == "OPTIONS" and "HTTP_ORIGIN" in request.META


def vary(response: HttpResponse) -> None:
    """The answer depends on the Origin header: say so, to every cache on the way."""
    patch_vary_headers(response, ["Origin"])


def grant(response: HttpResponse, origin: str) -> None:
    """Let a page on `origin` read this answer (no credentials: the widget sends no cookies)."""
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    vary(response)


def preflight_granted(origin: str) -> HttpResponse:
    response = HttpResponse(status=204)
    grant(response, origin)
    response["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response["Access-Control-Max-Age"] = str(MAX_AGE_SECONDS)
    return response
