"""Override: `ApiHandler`, Django's ASGI handler for the API families (/api/, /v1/), with its own middleware and no thread hops.

What it replaces (Django 5.2.19, `django.core.handlers`):

- `ASGIHandler.handle`, copied, without its two trips to a thread per request. Django sends
  `request_started` with `asend`, which runs its sync receivers (`reset_queries`,
  `close_old_connections`) through `sync_to_async`, and closes the response through
  `sync_to_async(response.close)`. API requests touch the database only in database phases,
  which run on their own threads and hand their connection back when they end
  (gateway/infra/db.py), or on the event loop's own pool (gateway/infra/adb.py): nothing is left for those
  receivers to do. `response.close()` still sends `request_finished`; its receivers find no
  connection on the event loop's thread and return at once. One difference from the copy's
  original: a request whose client went away before the view answered sends no
  `request_finished` (Django sends it through a thread; nothing on /api/ listens for it).
- `BaseHandler.get_response_async`, copied, logging an answer of 400 or more (`log_response`,
  "Unauthorized: /api/chat") here on the event loop instead of through a thread: the API's
  refusals (401, 403, 429, 404) are the requests an attacker sends by the thousand, and each
  cost a thread hand-off. The API logs on the loop already (the pipeline's warnings); a log
  line is a short write to stderr.
- `BaseHandler.load_middleware`, which reads `settings.MIDDLEWARE`: the setting is swapped for
  the API's list during that one call, at start-up, so /api/ gets its own all-async middleware
  (gateway/routing.py `API_MIDDLEWARE`) and the web pages keep Django's full stack.

Why (docs/performance.md, "After"): the web stack's `MiddlewareMixin` middleware runs each hook
through `sync_to_async` under ASGI, about a dozen thread round trips per API request; its own
stack took the c=1 overhead p50 from 21.1 to 16.8 ms (`39c58b0`). The two signal hops were
among "several percent of a chat" in the profile; removing them with the key cache and one
statement per phase took it from 13.7 to 9.3 ms and 121 to 193 req/s (`ce2d63c`). No public
extension point does this: the signals are global (disconnecting their receivers would break
the web pages' connection handling), and a handler's middleware comes only from the setting.

Guarded by gateway/tests/test_overrides.py::test_framework_code_the_overrides_copy_is_unchanged
(the fingerprints below), ::test_the_api_handler_sends_no_signal_through_a_thread and
conversations/tests/test_api_errors.py::test_refusals_are_logged_on_the_event_loop. Measured in process
(`python -m bench.edge_micro`, docs/performance.md, "the no-framework floor"): a request refused for its key
costs 288–292 µs of CPU with it, 399–417 µs with Django's handler.
"""

import asyncio

from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.urls import set_script_prefix, set_urlconf
from django.utils.log import log_response

# The framework code this module copies or relies on, by fingerprint (gateway/overrides/fingerprint.py).
RELIES_ON = {
    "django.core.handlers.asgi.ASGIHandler.handle": "7c6356071533fad4",
    "django.core.handlers.asgi.ASGIHandler.__call__": "569fba593644398a",
    "django.core.handlers.base.BaseHandler.load_middleware": "f4d85a1850a2444f",
    "django.core.handlers.base.BaseHandler.get_response_async": "d2952b73a6a0916a",
}


class ApiHandler(ASGIHandler):
    """Django's ASGI handler with `middleware` instead of settings.MIDDLEWARE, and no signal hops."""

    def __init__(self, middleware: list[str]):
        self.middleware = list(middleware)
        super().__init__()  # loads the middleware

    def load_middleware(self, is_async=False):
        # BaseHandler reads settings.MIDDLEWARE; swap it for the one call, at start-up.
        web_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = self.middleware
        try:
            super().load_middleware(is_async=is_async)
        finally:
            settings.MIDDLEWARE = web_middleware

    async def get_response_async(self, request):
        """Django's BaseHandler.get_response_async, logging an answer of 400 or more on the loop, not a thread."""
        set_urlconf(settings.ROOT_URLCONF)
        response = await self._middleware_chain(request)
        response._resource_closers.append(request.close)
        if response.status_code >= 400:
            log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
        return response

    async def handle(self, scope, receive, send):
        """Django's ASGIHandler.handle without `request_started` and `response.close` on a thread."""
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
