"""One request straight into an ASGI app, no server: what bench.profile_layers and bench.edge_micro drive."""

import asyncio


async def asgi_call(app, scope: dict, body: bytes = b"") -> int:
    """Send `body` as the request of `scope` to `app`; the answer's status once its last body part is sent."""
    done, received, status = asyncio.Event(), [False], []

    async def receive():
        if not received[0]:
            received[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif not message.get("more_body"):
            done.set()

    await app(scope, receive, send)
    return status[0]
