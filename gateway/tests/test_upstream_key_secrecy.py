"""The upstream (provider) key never appears in a response or a log line, even when the provider echoes it back.

A hostile provider on loopback puts the Authorization header it received into
its error bodies, malformed answers and broken streams; chats run through every
failure with every logger at DEBUG, and each response and record is searched.
"""

import json
import logging

import httpx
import pytest

from gateway.testing.api import UPSTREAM_KEY, chat, chat_stream, history
from gateway.testing.servers import ThreadedUvicorn

LOGGERS = ["", "django", "django.request", "conversations", "channels_app", "gateway", "httpx", "httpcore", "uvicorn",
           "uvicorn.error", "asyncio"]


class EchoingProvider:
    """An OpenAI-compatible endpoint that repeats the caller's credentials in whatever it answers."""

    def __init__(self):
        self.mode = "status"
        self.calls = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        self.calls += 1
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        if self.mode == "status":
            return await _send(send, 401, json.dumps({"error": {"message": f"Invalid key {auth}"}}).encode())
        if self.mode == "status_5xx":
            return await _send(send, 503, f"overloaded, your key: {auth}".encode(), b"text/plain")
        if self.mode == "straddle":  # the key lands across a 300-character cut
            return await _send(send, 400, ("x" * 280 + auth).encode(), b"text/plain")
        if self.mode == "malformed":
            return await _send(send, 200, f"<html>not json {auth}</html>".encode(), b"text/html")
        if self.mode == "no_choices":
            return await _send(send, 200, json.dumps({"choices": [], "debug": auth}).encode())
        if self.mode == "stream_garbage":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/event-stream")]})
            chunk = {"choices": [{"delta": {"content": "Hi"}}]}
            await send({"type": "http.response.body", "body": f"data: {json.dumps(chunk)}\n\n".encode(),
                        "more_body": True})
            await send({"type": "http.response.body", "body": f"data: {{broken {auth}\n\n".encode()})
            return
        raise AssertionError(self.mode)


async def _send(send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def echoing_server():
    app = EchoingProvider()
    server = ThreadedUvicorn(app).start()
    server.app = app
    yield server
    server.stop()


@pytest.fixture
def provider(llm, settings, echoing_server):
    """The `llm` fixture's settings (upstream key, fast retries), pointed at the echoing provider."""
    settings.LLM_BASE_URL = f"{echoing_server.url}/v1"
    settings.LLM_BREAKER_THRESHOLD = 1000  # keep calling it: an open breaker would hide the failures
    echoing_server.app.calls = 0
    return echoing_server.app


def fragments(secret: str, size: int = 12) -> list[str]:
    """Every `size`-character piece of the secret: a partly cut key is a leak too."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def leaks(text: str, secret: str) -> list[str]:
    return [piece for piece in fragments(secret) if piece in text]


def everything_logged(caplog) -> str:
    formatter = logging.Formatter()
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
        if record.stack_info:
            parts.append(record.stack_info)
        parts.append(repr({k: v for k, v in vars(record).items() if k not in ("msg", "args", "exc_info")}))
    return "\n".join(parts)


def everything_answered(responses) -> str:
    return "\n".join(f"{dict(r.headers)}\n{r.text}" for r in responses)


def run_failures(api, key, provider, modes) -> list[httpx.Response]:
    responses = []
    for mode in modes:
        provider.mode = mode
        r = chat(api, key, f"non-streamed, provider {mode}", session_id=mode)
        assert (r.status_code, r.json()) == (500, {"error": "AI service error. Please try again."}), mode
        responses.append(r)
        response, events = chat_stream(api, key, f"streamed, provider {mode}", session_id=mode)
        assert events and events[-1][0] == "error", (mode, response.text)
        responses.append(response)
    return responses


SAFE_MODES = ["status", "status_5xx", "malformed", "no_choices", "stream_garbage"]


def test_the_upstream_key_is_in_no_response_and_no_log_line(api, key, provider, caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    responses = run_failures(api, key, provider, SAFE_MODES)
    responses.append(history(api, key, session_id="status"))
    assert provider.calls >= 2 * len(SAFE_MODES)  # every failure really reached the provider

    logged = everything_logged(caplog)
    assert "Invalid key [upstream key]" in logged or "[upstream key]" in logged  # the echo was seen, and scrubbed
    assert leaks(logged, UPSTREAM_KEY) == []
    assert leaks(everything_answered(responses), UPSTREAM_KEY) == []
    # Nor does the channel's own key show up in the server's log.
    assert leaks(logged, key) == []


def test_a_key_cut_in_half_by_truncation_is_not_logged_either(api, key, provider, caplog):
    caplog.set_level(logging.DEBUG)
    run_failures(api, key, provider, ["straddle"])
    assert leaks(everything_logged(caplog), UPSTREAM_KEY) == []
