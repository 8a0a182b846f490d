"""Replay recorded provider traffic, byte for byte, as an OpenAI-compatible upstream on loopback.

Each fixture in gateway/testing/provider_traffic/<name>.http is one real provider response:
leading "# " lines naming its public source and any edit, a blank line, then the response as
recorded -- status line, headers, blank line, body bytes (see that folder's README.md).

    app = RecordedLLM()
    server = ThreadedUvicorn(app, server_header=False, date_header=False).start()
    app.play("groq_stream")               # every following request gets this answer
    app.play("groq_429", "groq_chat")     # first request 429, every later one groq_chat
    ...  app.requests[-1]["json"]["stream_options"]  ...
    app.reset()

Unlike FakeLLM, the answer does not depend on the request: the point is to meet the exact
bytes a provider sent (usage in x_groq, "usage": null, a choices:[] usage chunk, error shapes),
not to echo. A text/event-stream body goes out one SSE event per ASGI body message, so the
gateway reads it in pieces as it would from the provider.
"""

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from gateway.testing.fake_llm import read_body

TRAFFIC_DIR = Path(__file__).resolve().parent / "provider_traffic"
SUFFIX = ".http"


@dataclass(frozen=True)
class Recorded:
    """One recorded response: what the provider sent and where it was published."""

    name: str
    source: tuple[str, ...]  # the leading comment lines, without "# "
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # as recorded, in order, names as written
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def is_stream(self) -> bool:
        return (self.header("content-type") or "").startswith("text/event-stream")

    def pieces(self) -> list[bytes]:
        """The body cut after each SSE event ("\\n\\n"); joined they give the body back exactly."""
        if not self.is_stream:
            return [self.body]
        out, start = [], 0
        while (end := self.body.find(b"\n\n", start)) != -1:
            out.append(self.body[start:end + 2])
            start = end + 2
        if start < len(self.body):
            out.append(self.body[start:])  # e.g. a final "data: [DONE]" without its blank line
        return out

    def events(self) -> list[str]:
        """The data: payloads of a stream, in order ("[DONE]" included)."""
        return [line[len(b"data: "):].decode("utf-8")
                for piece in self.pieces() for line in piece.split(b"\n") if line.startswith(b"data: ")]

    def json(self):
        """The body of a non-stream answer, parsed."""
        return json.loads(self.body)


def fixtures() -> list[str]:
    """Names of every recorded response, sorted (file names without .http)."""
    return sorted(path.name[:-len(SUFFIX)] for path in TRAFFIC_DIR.glob(f"*{SUFFIX}"))


def load(name: str) -> Recorded:
    """Parse provider_traffic/<name>.http; raise ValueError on a malformed file."""
    raw = (TRAFFIC_DIR / f"{name}{SUFFIX}").read_bytes()
    source: list[str] = []
    rest = raw
    while rest.startswith(b"#"):
        line, _, rest = rest.partition(b"\n")
        source.append(line.decode("utf-8").removeprefix("#").removeprefix(" ").rstrip("\r"))
    if not rest.startswith(b"\n"):
        raise ValueError(f"{name}: the source comments must be followed by a blank line")
    head, sep, body = rest[1:].partition(b"\n\n")
    if not sep:
        raise ValueError(f"{name}: no blank line between the headers and the body")
    status_line, *header_lines = head.decode("latin-1").split("\n")
    version, _, status_reason = status_line.partition(" ")
    code, _, reason = status_reason.partition(" ")
    if not version.startswith("HTTP/") or not code.isdigit():
        raise ValueError(f"{name}: bad status line {status_line!r}")
    headers = []
    for line in header_lines:
        key, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"{name}: bad header line {line!r}")
        headers.append((key.strip(), value.strip()))
    return Recorded(name, tuple(source), int(code), reason, tuple(headers), body)


NOT_FOUND = b'{"error":{"message":"RecordedLLM answers POST /v1/chat/completions only"}}'
NOTHING_PLAYED = b'{"error":{"message":"RecordedLLM: call app.play(name) before the request"}}'


class RecordedLLM:
    """ASGI app answering POST /v1/chat/completions with the fixture chosen by play()."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.requests: list[dict] = []
        self.queue: list[Recorded] = []
        self.event_delay = 0.0  # seconds between stream events, for tests that watch pieces arrive
        self.models: Recorded | None = None  # GET /v1/models answers this (serve_models); None: 404

    def play(self, *names: str) -> None:
        """Answer the next requests with these fixtures in order; the last one repeats."""
        if not names:
            raise ValueError("play() needs at least one fixture name")
        self.queue = [load(name) for name in names]

    def serve_models(self, name: str) -> None:
        """Answer GET /v1/models with this fixture (the provider's model list), apart from the chat answers."""
        self.models = load(name)

    def next_answer(self) -> Recorded | None:
        if len(self.queue) > 1:
            return self.queue.pop(0)
        return self.queue[0] if self.queue else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
        self.requests.append({
            "method": scope["method"],
            "path": scope["path"],
            "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            "body": body,
            "json": payload,
        })
        if scope["method"] == "GET" and scope["path"] == "/v1/models" and self.models is not None:
            headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.models.headers]
            return await _send_whole(send, self.models.status, headers, self.models.body)
        if scope["method"] != "POST" or scope["path"] != "/v1/chat/completions":
            return await _send_whole(send, 404, [(b"content-type", b"application/json")], NOT_FOUND)
        recorded = self.next_answer()
        if recorded is None:
            return await _send_whole(send, 500, [(b"content-type", b"application/json")], NOTHING_PLAYED)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in recorded.headers]
        if not recorded.is_stream:
            return await _send_whole(send, recorded.status, headers, recorded.body)
        # No content-length: the stream goes out chunked, one SSE event per body message.
        await send({"type": "http.response.start", "status": recorded.status, "headers": headers})
        for piece in recorded.pieces():
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            if self.event_delay:
                await asyncio.sleep(self.event_delay)
        await send({"type": "http.response.body", "body": b""})


async def _send_whole(send, status: int, headers: list, body: bytes) -> None:
    if not any(k == b"content-length" for k, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
