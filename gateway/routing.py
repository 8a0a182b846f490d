"""Two Django handlers behind one ASGI app: a slim, all-async one for the API families, the full one for the rest.

The families (/api/ and /v1/) are gateway/infra/endpoints.py's `family_of`.

`Router` is plain ASGI, not an override: it picks a handler by path and answers the lifespan
protocol, which Django's ASGIHandler refuses (it serves "http" only). The API families' handler itself
replaces Django behaviour and lives with the other overrides (gateway/overrides/api_handler.py).
"""

from gateway.infra.endpoints import family_of

# The API families' middleware, in place of settings.MIDDLEWARE: both natively async, so a request makes no
# trip to a thread before the view (docs/performance.md).
API_MIDDLEWARE = [
    "gateway.infra.middleware.RequestMetricsMiddleware",
    "gateway.infra.api_middleware.ApiSecurityMiddleware",
]


class Router:
    def __init__(self, web, api):
        self.web, self.api = web, api

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and family_of(scope.get("path", "")) is not None:
            return await self.api(scope, receive, send)
        if scope["type"] == "lifespan":
            return await self.lifespan(receive, send)
        return await self.web(scope, receive, send)

    @staticmethod
    async def lifespan(receive, send):
        """Start-up needs nothing; at shutdown the provider's, database's and Redis's connections are closed cleanly."""
        from channels_app.providers.provider import close_sessions
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
