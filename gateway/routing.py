"""Two Django handlers behind one ASGI app: a slim, all-async one for /api/, the full one for the rest.

`Router` is plain ASGI, not an override: it picks a handler by path and answers the lifespan
protocol, which Django's ASGIHandler refuses (it serves "http" only). The /api/ handler itself
replaces Django behaviour and lives with the other overrides (gateway/overrides/api_handler.py).
"""

# /api/'s middleware, in place of settings.MIDDLEWARE: both natively async, so a request makes no
# trip to a thread before the view (docs/performance.md).
API_MIDDLEWARE = [
    "gateway.infra.middleware.RequestMetricsMiddleware",
    "gateway.infra.api_middleware.ApiSecurityMiddleware",
]


def is_api(path: str) -> bool:
    """/api/ and the OpenAI-compatible /v1/."""
    return path == "/api" or path.startswith("/api/") or path == "/v1" or path.startswith("/v1/")


class Router:
    def __init__(self, web, api):
        self.web, self.api = web, api

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and is_api(scope.get("path", "")):
            return await self.api(scope, receive, send)
        if scope["type"] == "lifespan":
            return await self.lifespan(receive, send)
        return await self.web(scope, receive, send)

    @staticmethod
    async def lifespan(receive, send):
        """Start-up needs nothing; at shutdown the provider's, database's and Redis's connections are closed cleanly."""
        from conversations.provider import close_sessions
        from gateway.infra import adb

        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await close_sessions()
                await adb.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
