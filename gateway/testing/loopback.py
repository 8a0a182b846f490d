"""httpx for the tests, sharing one TLS context: `loopback.get(url)`, `loopback.Client(base_url=...)`.

httpx makes a TLS context for every client it builds, loading certifi's CA bundle (20–30 ms of CPU), even for the
plain-http loopback addresses the tests talk to, and `httpx.get` builds a client per call. A run of the suite made
about 2,000 of them (40 s of CPU, sampled with py-spy): these pass the process's one context instead
(`gateway.infra.outbound.tls_context`, the one the gateway's own clients use). The functions take httpx's own
arguments and defaults; a test that needs a context of its own (a test CA) passes `verify=` as with httpx.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from gateway.infra.outbound import tls_context

_DEFAULT_TIMEOUT = httpx.Timeout(5.0)  # httpx's own default


class Client(httpx.Client):
    def __init__(self, **kwargs):
        kwargs.setdefault("verify", tls_context())
        super().__init__(**kwargs)


def request(method: str, url: str, *, timeout=_DEFAULT_TIMEOUT, **kwargs) -> httpx.Response:
    with Client(timeout=timeout) as client:
        return client.request(method, url, **kwargs)


def get(url: str, **kwargs) -> httpx.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs) -> httpx.Response:
    return request("POST", url, **kwargs)


@contextmanager
def stream(method: str, url: str, *, timeout=_DEFAULT_TIMEOUT, **kwargs) -> Iterator[httpx.Response]:
    """As `httpx.stream`: the response, its body unread until the block reads it."""
    with Client(timeout=timeout) as client, client.stream(method, url, **kwargs) as response:
        yield response
