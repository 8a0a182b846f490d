"""Two Django handlers behind one ASGI app: a slim, all-async one for /api/, the full one for the rest."""

import asyncio

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.exceptions import RequestAborted
from django.urls import set_script_prefix

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

    async def handle(self, scope, receive, send):
        """Django's ASGIHandler.handle without its two trips to a thread per request.

        Django sends `request_started` through sync_to_async (its receivers reset
        the query log and close stale database connections) and closes the
        response through sync_to_async too: two thread hand-offs per request,
        profiled at several percent of a chat. Neither is needed here: API
        requests touch the database only in database phases, which run in their
        own threads and hand their connection back when they end (gateway/db.py).
        `response.close()` still sends `request_finished`; its receivers find no
        connection on the event loop's thread and return at once.
        """
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return

        async def process_request(request, send):
            response = await self.run_get_response(request)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while the response was being sent
            return response

        # As Django: watch for the client going away while the view runs.
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            pass
        else:
            response.close()
        body_file.close()


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


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
        from gateway import adb

        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await close_sessions()
                await adb.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
