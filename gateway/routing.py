"""Two Django handlers behind one ASGI app: a slim, all-async one for /api/, the full one for the rest."""

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

API_MIDDLEWARE = [
    "gateway.middleware.RequestMetricsMiddleware",
    "gateway.api_middleware.ApiSecurityMiddleware",
]


class ApiHandler(ASGIHandler):
    """Django's ASGI handler with API_MIDDLEWARE instead of settings.MIDDLEWARE."""

    def load_middleware(self, is_async=False):
        # BaseHandler reads settings.MIDDLEWARE; swap it for the one call, at start-up.
        web_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = API_MIDDLEWARE
        try:
            super().load_middleware(is_async=is_async)
        finally:
            settings.MIDDLEWARE = web_middleware


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class Router:
    def __init__(self, web, api):
        self.web, self.api = web, api

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and is_api(scope.get("path", "")):
            return await self.api(scope, receive, send)
        return await self.web(scope, receive, send)
