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
        finally:
            metrics.series(metrics.IN_FLIGHT, endpoint).dec()
        return self._finish(request, response, endpoint, timing, started)

    async def _acall(self, request):
        endpoint, timing, started = self._start(request)
        try:
            response = await self.get_response(request)
        finally:
            metrics.series(metrics.IN_FLIGHT, endpoint).dec()
        return self._finish(request, response, endpoint, timing, started)

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
