"""Override: `LoopAPIView`, adrf's `APIView.async_dispatch` with DRF's `initial()` on the event loop.

What it replaces (adrf 0.1.14, DRF 3.16.1): `adrf.views.APIView.async_dispatch`, copied, with
two changes:

- adrf runs DRF's `initial()` (content negotiation, authentication, permissions, throttles)
  through `sync_to_async`: a thread per request. The API's `initial()` does no I/O (its
  authentication only parses the key, which is then resolved by an async step that needs no
  thread when the key is cached; it has no permissions or throttles), so it runs on the loop. A sync handler is
  called on the loop too (only DRF's `http_method_not_allowed` and `options` are sync here).
- the finalized response is rendered on the loop (gateway/overrides/response_rendering.py).

Two hooks for the view on top, so the copy holds nothing of the application: `run_handler()` (what adrf
runs inside its `try`: `initial()`, then the method's handler) and `after_finalize()` (async, after DRF's
`finalize_response`, before rendering). Between `initial()` and the handler, an authenticator that parsed a
credential may resolve it asynchronously (`async resolve(request, credential)`: the API's key edge,
channels_app/authentication.py), so a request goes from authentication to its handler without coming back
to the view.

Why (docs/performance.md, "After", `8e4f17c`): the thread for `initial()` was 9 % of the
GIL-holding time of a chat in the baseline profile ("DRF `initial` → `ApiKeyAuthentication`");
dropping that hop with the key verified in the first database phase took best req/s from
119.8 to 139.1. adrf offers no hook to run `initial()` elsewhere: it always calls
`sync_to_async(self.initial)`.

Guarded by gateway/tests/test_overrides.py::test_framework_code_the_overrides_copy_is_unchanged
(the fingerprint below) and ::test_the_api_view_runs_initial_on_the_event_loop.
"""

from adrf.views import APIView
from asgiref.sync import iscoroutinefunction

from gateway.overrides.response_rendering import rendered

RELIES_ON = {
    "adrf.views.APIView.async_dispatch": "e658c393b59be7aa",
}


class LoopAPIView(APIView):
    async def async_dispatch(self, request, *args, **kwargs):
        # adrf's async_dispatch, except that `initial()` runs on the event loop (in run_handler).
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            response = await self.run_handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        response = self.response = self.finalize_response(request, response, *args, **kwargs)
        return rendered(await self.after_finalize(request, response))

    async def run_handler(self, request, *args, **kwargs):
        """DRF's `initial()`, then the credential resolved, then the handler for the request's method: on the loop,
        no thread."""
        self.initial(request, *args, **kwargs)
        resolve = getattr(request.successful_authenticator, "resolve", None)
        if resolve is not None:
            request.auth = await resolve(request, request.auth)
        method = request.method.lower()
        handler = getattr(self, method, None) if method in self.http_method_names else None
        if handler is None:
            handler = self.http_method_not_allowed
        if iscoroutinefunction(handler):
            return await handler(request, *args, **kwargs)
        return handler(request, *args, **kwargs)

    async def after_finalize(self, request, response):
        """The finalized response, before it is rendered: a view may add to it (or record it)."""
        return response

    @staticmethod
    def authenticated_credential(request):
        """What authentication put in `request.auth`, or None if it did not run or refused the request.

        Reads DRF's `Request._auth` (the one private name here): reading `request.auth` after a
        refused key would run authentication again.
        """
        return getattr(request, "_auth", None)
