"""The API's own middleware: what SecurityMiddleware and CommonMiddleware give it, natively async.

Django's stock middleware runs its hooks through a worker thread under ASGI;
for the API, which needs no sessions, cookies, CSRF or messages, that thread
hop is most of the gateway's own time per chat (docs/performance.md).
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponsePermanentRedirect

from gateway.infra.endpoints import API, family_of
from gateway.infra.errors import error_json


class ApiSecurityMiddleware:
    """Host validation, the HTTPS redirect and the security headers, for the API families (/api/, /v1/) only."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request):
        try:
            host = request.get_host()  # validates against ALLOWED_HOSTS
        except DisallowedHost:
            return error_json(family_of(request.path) or API, 400, "Bad request: unknown host")
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return HttpResponsePermanentRedirect(f"https://{settings.SECURE_SSL_HOST or host}{request.get_full_path()}")
        response = await self.get_response(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        response.headers.setdefault("Cache-Control", "no-store")
        if settings.SECURE_HSTS_SECONDS and request.is_secure():
            hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if getattr(settings, "SECURE_HSTS_INCLUDE_SUBDOMAINS", False):
                hsts += "; includeSubDomains"
            if getattr(settings, "SECURE_HSTS_PRELOAD", False):
                hsts += "; preload"
            response.headers.setdefault("Strict-Transport-Security", hsts)
        return response


assert iscoroutinefunction(ApiSecurityMiddleware.__call__)
