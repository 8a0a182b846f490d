"""CPU per request of the requests anyone can send without a valid key, in process (no HTTP server).

    DJANGO_SETTINGS_MODULE=gateway.settings_test python -m bench.edge_micro

An unknown /api/ or /v1/ path, a chat with a malformed key, the OpenAPI schema: each through the whole ASGI
application (router, body limit, the API's handler and middleware, the view), best of several rounds of
`time.process_time()`. Logging is switched off, so the figures leave out writing the log line itself. These
are what an attacker can send by the thousand; docs/performance.md ("the no-framework floor") has the before/after.
"""

import json
import logging
import os
import time

from bench.asgi_call import asgi_call


def scope(path: str, method: str = "GET", headers=()) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"localhost"), *headers], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}


async def best_us(app, make_scope, body: bytes, n: int, rounds: int = 5) -> tuple[int, float]:
    best, status = float("inf"), 0
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            status = await asgi_call(app, make_scope(), body)
        best = min(best, (time.process_time() - started) / n)
    return status, best * 1e6


async def main() -> None:
    from gateway.asgi import application

    logging.disable(logging.CRITICAL)
    chat = json.dumps({"message": "hi", "session_id": "s"}).encode()
    refused = [(b"content-type", b"application/json"), (b"x-api-key", b"not-a-key")]
    cases = [
        ("GET /api/nope", lambda: scope("/api/nope"), b"", 2000),
        ("GET /v1/nope", lambda: scope("/v1/nope"), b"", 2000),
        ("POST /api/chat with a malformed key", lambda: scope("/api/chat", "POST", refused), chat, 2000),
        ("GET /api/schema/", lambda: scope("/api/schema/"), b"", 20),
    ]
    for label, make_scope, body, n in cases:
        status, us = await best_us(application, make_scope, body, n)
        print(f"{label}: {status}, {us:,.1f} µs of CPU")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings_test")
    import django
    import uvloop

    django.setup()
    uvloop.run(main())
