"""A cap on request bodies at the ASGI edge, before Django reads them.

Django's ASGI handler reads a whole body (spilling to a temporary file past
2.5 MB) before any middleware or view runs, whatever its size and whether or not
it declared a Content-Length. This wrapper reads at most REQUEST_MAX_BODY_BYTES
and answers 413 past that, so a huge or endless chunked upload costs a bounded
amount of memory and no disk. Bodies under the cap are handed on whole (a
chunked one with the Content-Length Django needs to read it); the API's own,
smaller limit (its family's: API_MAX_BODY_BYTES or V1_MAX_BODY_BYTES, gateway.infra.parsers)
still applies after authentication.
"""

from django.conf import settings

from gateway.infra.endpoints import family_of, max_body_bytes
from gateway.infra.errors import PayloadTooLarge, error_bytes

# After deciding on a 413, read (and drop) up to this much more, so a client still
# sending its body gets to read the answer instead of a connection reset.
_DRAIN_BYTES = 16 * 1024 * 1024


class BodySizeLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.REQUEST_MAX_BODY_BYTES
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            return await _refuse(scope, receive, send, limit)

        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let Django see it
                return await self.app(scope, _replay([message], receive), send)
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                return await _refuse(scope, receive, send, limit, more=message.get("more_body", False))
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        if declared is None and size:
            # Django reads exactly Content-Length bytes, so a chunked body would look empty to it.
            scope = {**scope, "headers": [*scope["headers"], (b"content-length", str(size).encode())]}
        return await self.app(scope, _replay([whole], receive), send)


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(messages: list[dict], receive):
    """`receive` that first returns `messages`, then defers to the server (so disconnects still arrive)."""
    pending = list(messages)

    async def replay():
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _refuse(scope, receive, send, limit: int, *, more: bool = True) -> None:
    drained = 0
    while more and drained < _DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        more = message.get("more_body", False)
    family = family_of(scope["path"])
    if family is not None:
        api_limit = min(limit, max_body_bytes(family))
        message = f"Request body is too large (at most {api_limit} bytes)"
        body = error_bytes(family, 413, message, code=PayloadTooLarge.openai_code)
        content_type = b"application/json"
    else:
        body, content_type = b"413 Payload too large", b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
