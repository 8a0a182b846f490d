"""Prometheus metrics and the per-request upstream timer.

The middleware (gateway.infra.middleware) opens a `RequestTiming` for each request;
the provider adds every upstream call's duration to it through
`upstream_record()`, so the middleware can report the gateway's own share
(`X-Gateway-Overhead-Ms` = total minus upstream).

Several uvicorn workers: each process counts for itself. Set
PROMETHEUS_MULTIPROC_DIR (an empty directory, wiped before the server starts)
and prometheus_client keeps the values in shared files, so one scrape of any
worker reports the sum of all of them. Without it, a scrape sees only the
worker that answered it.
"""

import contextvars
import functools
import ipaddress
import os
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from gateway.infra.endpoints import API
from gateway.infra.errors import error_json

# Seconds. Fine steps under 100 ms, where the gateway's own overhead lives;
# coarse ones up to the provider's read timeout.
_FAST_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_SLOW_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 90.0)

REQUESTS = Counter("gateway_requests_total", "HTTP requests answered, by endpoint and status.", ["endpoint", "status"])
LATENCY = Histogram(
    "gateway_request_duration_seconds", "Time from request to response, by endpoint.", ["endpoint"], buckets=_SLOW_BUCKETS
)
OVERHEAD = Histogram(
    "gateway_overhead_seconds",
    "The gateway's own time per request: total minus the time spent waiting on the AI provider.",
    ["endpoint"],
    buckets=_FAST_BUCKETS,
)
UPSTREAM_LATENCY = Histogram(
    "gateway_upstream_duration_seconds", "Duration of each call to the AI provider.", buckets=_SLOW_BUCKETS
)
# Labelled by the catalog's model id: a short list staff control (channels_app/providers/catalog_models.py AiModel), never input.
TOKENS = Counter("gateway_tokens_total", "Tokens of stored replies, by model and kind (prompt, completion).", ["model", "kind"])
COST = Counter("gateway_cost_usd_total", "Cost of stored replies in US dollars, from the catalog's prices, by model.", ["model"])
IN_FLIGHT = Gauge(
    "gateway_requests_in_flight", "Requests being handled right now.", ["endpoint"], multiprocess_mode="livesum"
)


@dataclass
class RequestTiming:
    upstream_seconds: float = 0.0


_timing: contextvars.ContextVar[RequestTiming | None] = contextvars.ContextVar("gateway_request_timing", default=None)


def timing_start() -> RequestTiming:
    """Open the timer the provider reports into for the current request."""
    timing = RequestTiming()
    _timing.set(timing)
    return timing


def upstream_record(seconds: float) -> None:
    """Count one provider call: into the request's timer (if any) and the upstream histogram."""
    timing = _timing.get()
    if timing is not None:
        timing.upstream_seconds += seconds
    UPSTREAM_LATENCY.observe(seconds)


@functools.lru_cache(maxsize=1024)
def series(metric, *labels: str):
    """`metric.labels(*labels)`, kept: labels come from small fixed sets (endpoints, status codes, model ids).

    The lookup (a lock, the labels checked and joined) costs more than the increment it is for; a chat makes
    eight (the request middleware's five, usage_record's three; docs/performance.md, "the no-framework floor")."""
    return metric.labels(*labels)


def usage_record(model: str, prompt_tokens: int | None, completion_tokens: int | None, cost) -> None:
    """Count one stored reply's tokens and cost (conversations/engine/pipeline.py settle), on kept series (`series`:
    with three lookups a chat this took 44 µs, 17 µs with the series kept; docs/providers.md)."""
    series(TOKENS, model, "prompt").inc(prompt_tokens or 0)
    series(TOKENS, model, "completion").inc(completion_tokens or 0)
    series(COST, model).inc(float(cost or 0))


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.METRICS_ALLOW_IPS]


def _is_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and constant_time_compare(auth[len("Bearer ") :].strip(), token):
            return True
    networks = _allowed_networks()
    if networks:
        try:
            addr = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(addr in net for net in networks)
    return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a bearer token or an allowed address; 404 when neither is configured."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOW_IPS:
        return error_json(API, 404, "Not found")
    if not _is_allowed(request):
        return error_json(API, 403, "Forbidden")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
