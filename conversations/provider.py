"""The AI provider: any OpenAI-compatible /chat/completions endpoint, or the offline demo.

One shared aiohttp.ClientSession per event loop (a pool of keep-alive connections),
with explicit connect/read timeouts and an overall deadline per call. aiohttp, not
httpx, for this one call: measured against the bench's mock, httpx cost 0.71 ms of
CPU per request at 1 request in flight and 2.28 ms at 32 (httpcore polls every idle
pooled connection on each request), aiohttp 0.16 ms at both (docs/performance.md).
"""

import asyncio
import json
import logging
import time
import weakref
from dataclasses import dataclass

import aiohttp
from django.conf import settings

from conversations import resilience
from conversations.prompt import estimate_tokens, is_page_context
from conversations.resilience import ProviderFailure
from gateway.infra.metrics import upstream_record

logger = logging.getLogger(__name__)

DEMO_TOKEN_DELAY = 0.02
DEMO_LABEL = "[Demo reply from the built-in offline provider: set LLM_API_KEY for real AI answers.]"


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int
    finish_reason: str = "stop"  # the provider's: "stop", "length" (max_tokens reached), ...
    tokens_estimated: bool = False  # the provider sent no usage: the tokens were counted locally


def is_demo() -> bool:
    return not settings.LLM_API_KEY


_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]" = weakref.WeakKeyDictionary()


def _timeout() -> aiohttp.ClientTimeout:
    # The overall deadline (LLM_TOTAL_TIMEOUT) is an asyncio.timeout around each call.
    return aiohttp.ClientTimeout(
        total=None,
        connect=settings.LLM_CONNECT_TIMEOUT,  # a pooled connection or a new one, within this
        sock_connect=settings.LLM_CONNECT_TIMEOUT,
        sock_read=settings.LLM_READ_TIMEOUT,  # between two reads
    )


def _session() -> aiohttp.ClientSession:
    # Connections belong to the loop that opened them, so each loop gets its own session.
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=settings.LLM_MAX_CONNECTIONS, limit_per_host=0),
            trust_env=False,
        )
        _sessions[loop] = session
    return session


async def close_sessions() -> None:
    """Close this event loop's provider session (at server shutdown)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


_scrub = resilience.scrub


async def _send(payload: dict, *, stream: bool, deadline: float) -> aiohttp.ClientResponse:
    headers = {"Authorization": f"Bearer {settings.LLM_API_KEY}", "Content-Type": "application/json"}
    if stream:
        headers["Accept"] = "text/event-stream"
    url = settings.LLM_BASE_URL.rstrip("/") + "/chat/completions"
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return await resilience.send(
        _session(), url, body=body, headers=headers, timeout=_timeout(), deadline=deadline, model=payload["model"]
    )


async def complete(*, model: str, messages: list[dict], max_tokens: int, options: dict | None = None) -> Completion:
    """The whole reply. `options`: sampling options passed on as they are (temperature, top_p, stop)."""
    if is_demo():
        return _demo_complete(model=model, messages=messages)
    payload = {"model": model, "messages": messages, "max_tokens": max_tokens, **(options or {}), "stream": False}
    started = time.perf_counter()
    try:
        async with asyncio.timeout(settings.LLM_TOTAL_TIMEOUT) as deadline:
            response = await _send(payload, stream=False, deadline=deadline.when())
            try:
                raw = await response.read()
            finally:
                response.release()
    except (TimeoutError, aiohttp.ClientError, ProviderFailure) as exc:
        raise _failure(exc, "answer", model) from None
    finally:
        upstream_record(time.perf_counter() - started)
    latency_ms = int((time.perf_counter() - started) * 1000)
    return _parse(raw, model=model, latency_ms=latency_ms)


def _failure(exc: Exception, what: str, model: str) -> ProviderFailure:
    """One ProviderFailure for whatever ended a provider call, scrubbed for the log.

    A deadline or a broken read counts against the circuit breaker of the upstream
    and model (failures resilience.send saw itself are counted there already).
    """
    if isinstance(exc, ProviderFailure):
        return ProviderFailure(_scrub(str(exc)))
    resilience.breaker_for(settings.LLM_BASE_URL, model).failed()
    if isinstance(exc, aiohttp.ClientError):  # before TimeoutError: aiohttp's read timeouts are both
        return ProviderFailure(f"{resilience.describe(exc)} (reading the provider's {what})")
    return ProviderFailure(f"No complete {what} within {settings.LLM_TOTAL_TIMEOUT}s")


def _parse(raw: bytes, *, model: str, latency_ms: int) -> Completion:
    try:
        body = json.loads(raw)
        text = body["choices"][0]["message"]["content"]
        finish_reason = body["choices"][0].get("finish_reason")
    except (ValueError, KeyError, IndexError, TypeError):
        raise ProviderFailure(f"Malformed completion body: {_scrub(raw.decode('utf-8', 'replace'))[:300]!r}") from None
    if not isinstance(text, str) or not text.strip():
        raise ProviderFailure("Completion has no text content")
    usage = body.get("usage") if isinstance(body, dict) and isinstance(body.get("usage"), dict) else {}
    return Completion(
        text=text,
        model=str(body.get("model") or model)[:64],
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        latency_ms=latency_ms,
        finish_reason=_reason(finish_reason),
    )


def _count(value) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def _reason(value) -> str:
    return value if isinstance(value, str) and value and len(value) <= 32 else "stop"


class CompletionStream:
    """The provider's reply as it is generated: iterate for text deltas.

    After a full iteration, `completion()` describes the whole reply. Any
    failure (status, connection, body, deadline) raises ProviderFailure.
    """

    def __init__(self, *, model: str, messages: list[dict], max_tokens: int, options: dict | None = None):
        self.model, self.messages, self.max_tokens, self.options = model, messages, max_tokens, options or {}
        self.usage: dict = {}
        self.finish_reason = "stop"
        self.reply_model = model
        self.latency_ms = 0

    def completion(self, text: str) -> Completion:
        return Completion(
            text=text,
            model=self.reply_model[:64],
            prompt_tokens=_count(self.usage.get("prompt_tokens")),
            completion_tokens=_count(self.usage.get("completion_tokens")),
            latency_ms=self.latency_ms,
            finish_reason=self.finish_reason,
        )

    async def __aiter__(self):
        if is_demo():
            demo = _demo_complete(model=self.model, messages=self.messages)
            self.reply_model = demo.model
            self.usage = {"prompt_tokens": demo.prompt_tokens, "completion_tokens": demo.completion_tokens}
            for i, word in enumerate(demo.text.split(" ")):
                if i:
                    await asyncio.sleep(DEMO_TOKEN_DELAY)  # so a streaming demo visibly streams
                yield word if i == 0 else " " + word
            return
        started = time.perf_counter()
        try:
            async with asyncio.timeout(settings.LLM_TOTAL_TIMEOUT) as deadline:
                async for delta in self._upstream(deadline.when()):
                    yield delta
        except (TimeoutError, aiohttp.ClientError, ProviderFailure) as exc:
            raise _failure(exc, "stream", self.model) from None
        finally:
            upstream_record(time.perf_counter() - started)
            self.latency_ms = int((time.perf_counter() - started) * 1000)

    async def _upstream(self, deadline: float):
        payload = {"model": self.model, "messages": self.messages, "max_tokens": self.max_tokens, **self.options, "stream": True}
        response = await _send(payload, stream=True, deadline=deadline)
        try:
            async for raw_line in response.content:
                line = raw_line.decode("utf-8", "replace").rstrip("\r\n")
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alives
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                delta = self._parse_chunk(data)
                if delta:
                    yield delta
        finally:
            response.release()  # a body not read to its end closes the connection instead of pooling it
        raise ProviderFailure("The provider's stream ended without [DONE]")

    def _parse_chunk(self, data: str) -> str:
        try:
            chunk = json.loads(data)
            choices = chunk.get("choices") or []
            delta = (choices[0].get("delta") or {}) if choices else {}
            text = delta.get("content") or ""
            if choices and choices[0].get("finish_reason"):
                self.finish_reason = _reason(choices[0]["finish_reason"])
        except (ValueError, AttributeError, IndexError, TypeError):
            raise ProviderFailure(f"Malformed stream chunk: {_scrub(data)[:300]!r}") from None
        if not isinstance(text, str):
            raise ProviderFailure("Stream chunk content is not text")
        usage = chunk.get("usage") or (chunk.get("x_groq") or {}).get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        if chunk.get("model"):
            self.reply_model = str(chunk["model"])
        return text


def _demo_complete(*, model: str, messages: list[dict]) -> Completion:
    question = messages[-1]["content"]
    earlier = sum(1 for m in messages[:-1] if m["role"] == "user" and not is_page_context(m))
    text = (
        f"{DEMO_LABEL}\n\n"
        f"You said: \u201c{question[:200]}\u201d\n\n"
        f"This conversation has {earlier} earlier message{'s' if earlier != 1 else ''} from you "
        f"in its context, and the channel's model is `{model}`."
    )
    prompt_tokens = sum(estimate_tokens(m["content"]) for m in messages)
    return Completion(text, "demo", prompt_tokens, estimate_tokens(text), 0)
