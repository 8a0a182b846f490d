"""An OpenAI-compatible /chat/completions server for tests and benchmarks.

A plain ASGI app, served for real over loopback (see servers.ThreadedUvicorn).
Its behaviour is switched per test: a normal reply, an error status, a broken
body, a hang, a dropped connection, or extra latency.
"""

import asyncio
import json
import time


async def read_body(receive) -> bytes:
    """An ASGI request's whole body (the fake upstreams read it before answering)."""
    body = b""
    while True:
        event = await receive()
        body += event.get("body", b"")
        if not event.get("more_body"):
            return body


class FakeLLM:
    def __init__(self, latency: float = 0.0):
        self.default_latency = latency
        self.reset()

    def reset(self) -> None:
        self.requests: list[dict] = []
        self.mode = "ok"
        self.status = 200
        self.latency = self.default_latency
        self.reply: str | None = None  # None: echo the last user message
        self.token_delay = 0.0  # seconds between streamed chunks
        self.cancelled = 0  # streams whose client (the gateway) went away mid-way
        self.finished = 0  # requests whose handling ended (answered, or given up after the client left)
        self.fail_first = 0  # answer the first N requests with `status` (and Retry-After), then normally
        self.retry_after: str | None = None
        self.failing_models: set[str] = set()  # answered with `status` whatever the mode
        self.echo_key = False  # error bodies repeat the Authorization header (some providers echo the key)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        try:
            await self._handle(scope, receive, send)
        finally:
            self.finished += 1

    async def _handle(self, scope, receive, send):
        body = await read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
        self.requests.append({"path": scope["path"], "headers": headers, "json": payload, "at": time.monotonic()})
        if self.latency:
            await asyncio.sleep(self.latency)

        if scope["path"] != "/v1/chat/completions" or scope["method"] != "POST":
            return await _respond(send, 404, {"error": {"message": "not found"}})
        if payload and payload.get("model") in self.failing_models:
            return await _respond(send, self.status, {"error": {"message": "model unavailable"}})
        if self.fail_first:
            self.fail_first -= 1
            extra = [(b"retry-after", self.retry_after.encode())] if self.retry_after else []
            return await _respond(send, self.status, {"error": {"message": "try later"}}, extra)
        if self.mode == "hang":
            await asyncio.sleep(3600)
        if self.mode == "trickle":  # a valid answer, one byte every 0.1 s
            body = json.dumps(self.completion(payload)).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            gone = asyncio.create_task(receive())
            try:
                for i in range(len(body)):
                    if gone.done():
                        return
                    await send({"type": "http.response.body", "body": body[i:i + 1], "more_body": i + 1 < len(body)})
                    await asyncio.sleep(0.1)
            finally:
                gone.cancel()
            return
        if self.mode == "reset":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
            raise ConnectionResetError("fake upstream drops the connection")
        if self.mode == "status":
            said = f"upstream says no to {headers.get('authorization', '')}" if self.echo_key else "upstream says no"
            return await _respond(send, self.status, {"error": {"message": said}})
        if self.mode == "malformed":
            return await _respond_raw(send, 200, b"this is not json", b"text/plain")
        if self.mode == "no_choices":
            return await _respond(send, 200, {"id": "x", "choices": []})
        if payload.get("stream"):
            return await self._stream(receive, send, payload)
        return await _respond(send, 200, self.completion(payload))

    def reply_text(self, payload: dict) -> str:
        last = payload["messages"][-1]["content"]
        return self.reply if self.reply is not None else f"Echo: {last}"

    async def _stream(self, receive, send, payload: dict) -> None:
        """OpenAI-style server-sent events: one chunk per word, then [DONE]."""
        words = self.reply_text(payload).split(" ")
        tokens = [w if i == 0 else " " + w for i, w in enumerate(words)]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        # uvicorn drops writes to a closed connection silently; only receive() tells.
        gone = asyncio.create_task(receive())
        try:
            for i, token in enumerate(tokens):
                if gone.done():
                    self.cancelled += 1
                    return
                if self.mode == "stream_break" and i == 2:
                    raise ConnectionResetError("fake upstream drops the stream")
                chunk = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": payload.get("model"),
                         "choices": [{"index": 0, "delta": {"content": token}, "finish_reason": None}]}
                await send({"type": "http.response.body", "body": f"data: {json.dumps(chunk)}\n\n".encode(), "more_body": True})
                if self.token_delay:
                    await asyncio.sleep(self.token_delay)
            if self.mode == "stream_no_done":
                await send({"type": "http.response.body", "body": b""})
                return
            final = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": payload.get("model"),
                     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            tail = f"data: {json.dumps(final)}\n\n"
            if (payload.get("stream_options") or {}).get("include_usage"):
                # As OpenAI: only when asked, in one more chunk with no choices.
                usage = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": payload.get("model"), "choices": [],
                         "usage": {"prompt_tokens": 11, "completion_tokens": len(tokens), "total_tokens": 11 + len(tokens)}}
                tail += f"data: {json.dumps(usage)}\n\n"
            await send({"type": "http.response.body", "body": (tail + "data: [DONE]\n\n").encode()})
        finally:
            gone.cancel()

    def completion(self, payload: dict) -> dict:
        text = self.reply_text(payload)
        return {
            "id": f"chatcmpl-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": payload.get("model", "unknown"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }


async def _respond(send, status: int, body: dict, headers: list | None = None) -> None:
    await _respond_raw(send, status, json.dumps(body).encode(), b"application/json", headers)


async def _respond_raw(send, status: int, body: bytes, content_type: bytes, headers: list | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())] + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})
