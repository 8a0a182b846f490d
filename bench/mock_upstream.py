"""The benchmark's upstream: gateway.testing.fake_llm.FakeLLM served by uvicorn in its own process.

    python -m bench.mock_upstream --port 9100 --latency-ms 0

`POST /_bench/latency?ms=2000` changes the reply latency between load phases.

Trickled streams, for the open-streams phase (bench/streams.py): a streamed chat whose last message holds
`[bench-stream tokens=40 delay_ms=1000 hold tail=20]` is answered one token every delay_ms, tokens of
them at least; with `hold`, it keeps trickling until `POST /_bench/release` (then 0 to `tail` more tokens,
at random, so the streams do not all end in the same instant) or until it has trickled for `max_hold_s`
(default 240, so a stream never outlives the gateway's deadline unreleased). `POST /_bench/hold` holds
again. `GET /_bench/streams` counts the trickled streams: open, completed, and cut off by their client.
"""

import argparse
import asyncio
import collections
import json
import random
import re
import time
from urllib.parse import parse_qs

import uvicorn

from gateway.testing.fake_llm import FakeLLM


class BenchLLM(FakeLLM):
    """FakeLLM that keeps only the last few requests, so a long run does not grow without bound."""

    def reset(self) -> None:
        super().reset()
        self.requests = collections.deque(maxlen=16)


STREAM_DIRECTIVE = re.compile(r"\[bench-stream ([^\]]*)\]")


class App:
    def __init__(self, latency: float):
        self.llm = BenchLLM(latency=latency)
        self.released = asyncio.Event()
        self.streams = {"open": 0, "completed": 0, "cut_off": 0}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/_bench/latency":
            ms = float(parse_qs(scope["query_string"].decode()).get("ms", ["0"])[0])
            self.llm.latency = ms / 1000
            return await _json(send, {"latency_ms": ms})
        if scope["type"] == "http" and scope["path"] in ("/_bench/release", "/_bench/hold"):
            if scope["path"] == "/_bench/release":
                self.released.set()
            else:
                self.released.clear()
            return await _json(send, {"released": self.released.is_set(), **self.streams})
        if scope["type"] == "http" and scope["path"] == "/_bench/streams":
            return await _json(send, {"released": self.released.is_set(), **self.streams})
        if scope["type"] == "http" and scope["path"] == "/v1/chat/completions" and scope["method"] == "POST":
            body = await _read_body(receive)
            spec = _stream_spec(body)
            if spec is not None:
                return await self.trickle(receive, send, spec)
            receive = _replay(body, receive)
        await self.llm(scope, receive, send)

    async def trickle(self, receive, send, spec: dict) -> None:
        """One token every delay_ms (the first at once, after the mock's latency), as OpenAI streams chunks."""
        if self.llm.latency:
            await asyncio.sleep(self.llm.latency)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        self.streams["open"] += 1
        # uvicorn drops writes to a closed connection silently; only receive() tells.
        gone = asyncio.create_task(receive())
        loop = asyncio.get_running_loop()
        give_up = loop.time() + spec["max_hold_s"]
        # A held stream has no last token until it is released: then 0 to `tail` more, and at least `tokens`.
        last, sent = (None if spec["hold"] else spec["tokens"]), 0
        # Encoded once: thousands of streams each trickling must not cost the mock what they cost the gateway.
        first, next_ = (
            f"data: {json.dumps({'id': 'chatcmpl-b', 'object': 'chat.completion.chunk', 'model': spec['model'], 'choices': [{'index': 0, 'delta': {'content': text}, 'finish_reason': None}]})}\n\n".encode()
            for text in ("tok", " tok")
        )
        try:
            while True:
                if gone.done():
                    self.streams["cut_off"] += 1
                    return
                await send({"type": "http.response.body", "body": next_ if sent else first, "more_body": True})
                sent += 1
                if last is None and (self.released.is_set() or loop.time() >= give_up):
                    last = max(spec["tokens"], sent + random.randint(0, spec["tail"]))
                if last is not None and sent >= last:
                    break
                await asyncio.sleep(spec["delay_ms"] / 1000)
            final = {"id": "chatcmpl-b", "object": "chat.completion.chunk", "model": spec["model"],
                     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            usage = {"id": "chatcmpl-b", "object": "chat.completion.chunk", "model": spec["model"], "choices": [],
                     "usage": {"prompt_tokens": 11, "completion_tokens": sent, "total_tokens": 11 + sent}}
            tail = f"data: {json.dumps(final)}\n\n" + (f"data: {json.dumps(usage)}\n\n" if spec["usage"] else "")
            await send({"type": "http.response.body", "body": (tail + "data: [DONE]\n\n").encode()})
            self.streams["completed"] += 1
        finally:
            self.streams["open"] -= 1
            gone.cancel()


def _stream_spec(body: bytes) -> dict | None:
    """The trickle a streamed request asks for in its last message, or None (FakeLLM answers it)."""
    try:
        payload = json.loads(body)
        content = payload["messages"][-1]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    match = STREAM_DIRECTIVE.search(content) if payload.get("stream") and isinstance(content, str) else None
    if not match:
        return None
    words = dict(w.split("=", 1) if "=" in w else (w, "1") for w in match.group(1).split())
    return {
        "tokens": max(1, int(words.get("tokens", 10))), "delay_ms": float(words.get("delay_ms", 0)),
        "hold": "hold" in words, "tail": int(words.get("tail", 0)), "max_hold_s": float(words.get("max_hold_s", 240)),
        "model": payload.get("model"), "usage": bool((payload.get("stream_options") or {}).get("include_usage")),
    }


async def _read_body(receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def _replay(body: bytes, receive):
    """A receive() that gives the body already read, then what the connection says next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed():
        return pending.pop() if pending else await receive()

    return replayed


async def _json(send, body: dict) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--http", default="auto")
    parser.add_argument("--timeout-keep-alive", type=int, default=5,
                        help="seconds an idle kept-alive connection stays open (uvicorn's default: 5)")
    args = parser.parse_args()
    uvicorn.run(
        App(args.latency_ms / 1000),
        host=args.host,
        port=args.port,
        loop=args.loop,
        http=args.http,
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=4096,
        timeout_keep_alive=args.timeout_keep_alive,
    )


if __name__ == "__main__":
    main()
