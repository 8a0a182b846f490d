"""A real HTTP receiver for webhooks on loopback: it answers as told (ok, fail, hang) and keeps what arrived."""

import asyncio
import threading
import time

from gateway.testing.servers import ThreadedUvicorn


class WebhookReceiver:
    """An ASGI app: `plan` is a list of behaviours for the next requests ("ok", "fail" = 500, "hang",
    "redirect" = 302 to /followed);
    when it runs out every request gets `then` ("ok" by default)."""

    def __init__(self):
        self.received: list[dict] = []  # {"headers": {...}, "body": bytes, "answered": "ok"/"fail"/"hang"}
        self.plan: list[str] = []
        self.then = "ok"
        self.lock = threading.Lock()
        self.hang_seconds = 30.0

    def reset(self, plan: list[str] | None = None, then: str = "ok") -> None:
        with self.lock:
            self.received.clear()
            self.plan = list(plan or [])
            self.then = then

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        with self.lock:
            behaviour = self.plan.pop(0) if self.plan else self.then
            self.received.append({
                "headers": {k.decode().lower(): v.decode() for k, v in scope["headers"]},
                "body": body, "answered": behaviour, "path": scope["path"],
            })
        if behaviour == "hang":
            await asyncio.sleep(self.hang_seconds)
        status = {"fail": 500, "redirect": 302}.get(behaviour, 204)
        headers = [(b"location", b"/followed")] if behaviour == "redirect" else []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def wait_for(self, count: int, timeout: float = 20) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} webhook requests arrived, not {count}, within {timeout}s")
            time.sleep(0.02)


def start_receiver() -> tuple[WebhookReceiver, ThreadedUvicorn]:
    app = WebhookReceiver()
    # A short graceful-shutdown bound: a "hang" in progress must not hold the test run's end.
    return app, ThreadedUvicorn(app, timeout_graceful_shutdown=1).start()
