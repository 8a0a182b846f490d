"""Request timing: Prometheus metrics for every request, `X-Gateway-Overhead-Ms` on API responses.

First in MIDDLEWARE, so the time it measures includes every other middleware.
"""

import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from gateway.infra import metrics
from gateway.infra.endpoints import family_of, label_of

OVERHEAD_HEADER = "X-Gateway-Overhead-Ms"


class RequestMetricsMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        endpoint, timing, started = self._start(request)
        try:
            response = self.get_response(request)
        except BaseException:
            metrics.series(metrics.IN_FLIGHT, endpoint).dec()
            raise
        return self._finish(request, self._landed(response, endpoint), endpoint, timing, started)

    async def _acall(self, request):
        endpoint, timing, started = self._start(request)
        try:
            response = await self.get_response(request)
        except BaseException:  # a client gone while the view ran cancels it: no response will be closed
            metrics.series(metrics.IN_FLIGHT, endpoint).dec()
            raise
        return self._finish(request, self._landed(response, endpoint), endpoint, timing, started)

    @staticmethod
    def _landed(response, endpoint):
        """The request is in flight until its response is closed: at once for a whole body, when the stream ends (or
        its client leaves) for a streamed one, whose view returned long before."""
        series = metrics.series(metrics.IN_FLIGHT, endpoint)
        if response.streaming:
            counted = _CountedAsyncBody if response.is_async else _CountedBody
            response.streaming_content = counted(response.streaming_content, series)
        else:
            series.dec()
        return response

    @staticmethod
    def _start(request):
        endpoint = label_of(request.path)
        metrics.series(metrics.IN_FLIGHT, endpoint).inc()
        return endpoint, metrics.timing_start(), time.perf_counter()

    @staticmethod
    def _finish(request, response, endpoint, timing, started):
        total = time.perf_counter() - started
        overhead = max(0.0, total - timing.upstream_seconds)
        metrics.series(metrics.REQUESTS, endpoint, str(response.status_code)).inc()
        metrics.series(metrics.LATENCY, endpoint).observe(total)
        if family_of(request.path) is not None:
            metrics.series(metrics.OVERHEAD, endpoint).observe(overhead)
            response[OVERHEAD_HEADER] = f"{overhead * 1000:.2f}"
        return response


class _Counted:
    """A streamed body that leaves the in-flight gauge when Django closes the response: Django calls the `close` of
    the body it is given when it closes the response (`StreamingHttpResponse`), which the server's handler does
    once the stream has ended or its client has gone, so the count is given back exactly once."""

    def __init__(self, content, series):
        self.content = content
        self.series = series
        self.closed = False

    def close(self):
        if not self.closed:
            self.closed = True
            self.series.dec()


class _CountedBody(_Counted):
    def __iter__(self):
        return iter(self.content)


class _CountedAsyncBody(_Counted):
    def __aiter__(self):  # and no __iter__: Django takes a body that iter() accepts as a synchronous one
        return aiter(self.content)
