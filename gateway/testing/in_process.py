"""The gateway's ASGI application called in the test's own process, on the test's database transaction.

`InProcessTransport` is an httpx transport: a client built on it sends each
request through `gateway.asgi.application` (the body limit, the router, the
API's handler and middleware, Django's web stack, authentication, error pages)
exactly as uvicorn would hand it over, but without a socket, and with every
database access on the test's connection, inside its transaction (pytest-django's
`db`), which is rolled back when the test ends instead of flushing every table.

What differs from a live server, and why it does not change what is tested:
- The request's database phases (gateway/infra/db.py) run on the calling thread,
  the one holding the test's transaction, instead of the phase threads.
- Callbacks a commit would run (`transaction.on_commit`: the key cache's new
  generation, queued jobs, the catalog's reload) run before and after each
  request, as the commits of the test's setup and of the request would have run them.
- The whole answer is read before the client sees it: a test whose subject is a
  stream read piece by piece, or a client going away mid-answer, needs a socket
  (`@pytest.mark.live`, docs/testing.md).
- The chat store is the ORM's (conftest.py switches CHAT_STORE): the PostgreSQL
  store's own event-loop pool cannot see an uncommitted transaction; that store
  keeps its tests on a live server.
"""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from asgiref.sync import async_to_sync
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections

from gateway.infra.db import phases_on_calling_thread

logger = logging.getLogger(__name__)

# What uvicorn reports for a loopback client; the gateway's per-address limits key on it.
CLIENT = ("127.0.0.1", 50000)
BASE_URL = "http://127.0.0.1"


def run_pending_commit_callbacks() -> None:
    """Run the on_commit callbacks waiting on the test's transaction, as its commit would have."""
    for alias in connections:
        connection = connections[alias]
        while connection.run_on_commit:
            _, callback, robust = connection.run_on_commit.pop(0)
            try:
                callback()
            except Exception:
                if not robust:
                    raise
                logger.exception("A robust on_commit callback failed")  # as Django logs it after a real commit


class _Borrowed:
    """The test's connection as a request's off-thread work sees it: everything but `close`, which would end the
    test's transaction (the health check closes its thread's connection after each probe, as a pool needs)."""

    def __init__(self, connection):
        object.__setattr__(self, "_connection", connection)

    def __getattr__(self, name):
        return getattr(self._connection, name)

    def __setattr__(self, name, value):
        setattr(self._connection, name, value)

    def close(self) -> None:
        pass


def _use_connections(shared: dict) -> None:
    for alias, connection in shared.items():
        connections[alias] = _Borrowed(connection)


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app):
        self.app = app
        self.thread = threading.get_ident()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if threading.get_ident() != self.thread:
            # Another thread has its own database connection, outside the test's transaction: its requests would
            # not see the test's data, and could wait forever on the rows the test's transaction holds.
            raise RuntimeError("an in-process client is used from another thread: mark the test live (docs/testing.md)")
        run_pending_commit_callbacks()
        # Django's receiver closes a connection whose autocommit differs from the settings', which the test's open
        # transaction's does: Django's own test client detaches it during a request the same way.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        # Django renders an exception's error page off the request's thread (sync_to_async with
        # thread_sensitive=False); that thread gets this thread's connections, so the page's queries (the session,
        # the user) run inside the test's transaction instead of waiting on its locks from a connection of their own.
        shared = {alias: connections[alias] for alias in connections}
        for connection in shared.values():
            connection.inc_thread_sharing()
        try:
            status, headers, content, extensions = async_to_sync(self._call)(request, shared)
        finally:
            for connection in shared.values():
                connection.dec_thread_sharing()
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        run_pending_commit_callbacks()
        # A stream, not content=: httpx would add a Content-Length the application did not send.
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content), extensions=extensions)

    async def _shut_down(self) -> None:
        """This request's event loop ends with it: its lifespan shutdown closes the provider, database and Redis
        clients made on it, as at a server's shutdown."""
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive():
            return next(messages)

        async def send(message):
            pass

        await self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    async def _call(self, request: httpx.Request, shared: dict):
        # raise_app_exceptions off: an exception out of the application becomes a 500, as uvicorn answers it.
        transport = httpx.ASGITransport(app=self.app, client=CLIENT, raise_app_exceptions=False)
        request.stream = httpx.ByteStream(request.read())
        # Work Django sends off the thread with thread_sensitive=False (an exception's error page) runs on this
        # loop's default executor: one thread, on the test's connections.
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="in-process-request",
                                      initializer=_use_connections, initargs=(shared,))
        loop.set_default_executor(executor)
        try:
            with phases_on_calling_thread():
                response = await transport.handle_async_request(request)
                content = b"".join([part async for part in response.aiter_raw()])  # as sent: httpx decodes it
        finally:
            await self._shut_down()
            executor.shutdown(wait=False)
        return response.status_code, response.headers, content, {"http_version": b"HTTP/1.1"}
