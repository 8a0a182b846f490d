"""The AI provider: any OpenAI-compatible /chat/completions endpoint, or the offline demo.

One shared httpx.AsyncClient per event loop (a pool of keep-alive connections),
with explicit connect/read timeouts and an overall deadline per call.
"""

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass

import httpx
from django.conf import settings

from conversations.prompt import estimate_tokens
from gateway.metrics import upstream_record

logger = logging.getLogger(__name__)

DEMO_LABEL = "[Demo reply from the built-in offline provider: set LLM_API_KEY for real AI answers.]"


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int


class ProviderFailure(Exception):
    """The provider gave no usable reply. The message is for logs: never the upstream key."""


def is_demo() -> bool:
    return not settings.LLM_API_KEY


_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]" = weakref.WeakKeyDictionary()


def _client() -> httpx.AsyncClient:
    # httpx connections belong to the loop that opened them, so each loop gets its own client.
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=settings.LLM_CONNECT_TIMEOUT,
                read=settings.LLM_READ_TIMEOUT,
                write=settings.LLM_CONNECT_TIMEOUT,
                pool=settings.LLM_CONNECT_TIMEOUT,
            ),
            limits=httpx.Limits(max_connections=settings.LLM_MAX_CONNECTIONS, max_keepalive_connections=200),
        )
        _clients[loop] = client
    return client


def _scrub(text: str) -> str:
    key = settings.LLM_API_KEY
    return text.replace(key, "[upstream key]") if key else text


async def complete(*, model: str, messages: list[dict], max_tokens: int) -> Completion:
    if is_demo():
        return _demo_complete(model=model, messages=messages)
    url = settings.LLM_BASE_URL.rstrip("/") + "/chat/completions"
    payload = {"model": model, "messages": messages, "max_tokens": max_tokens, "stream": False}
    started = time.perf_counter()
    try:
        async with asyncio.timeout(settings.LLM_TOTAL_TIMEOUT):
            response = await _client().post(
                url, json=payload, headers={"Authorization": f"Bearer {settings.LLM_API_KEY}"}
            )
    except (httpx.HTTPError, TimeoutError) as exc:
        raise ProviderFailure(f"{type(exc).__name__} calling {url}: {_scrub(str(exc))}") from None
    finally:
        upstream_record(time.perf_counter() - started)
    latency_ms = int((time.perf_counter() - started) * 1000)
    if not response.is_success:
        raise ProviderFailure(f"HTTP {response.status_code} from {url}: {_scrub(response.text[:300])}")
    return _parse(response, model=model, latency_ms=latency_ms)


def _parse(response: httpx.Response, *, model: str, latency_ms: int) -> Completion:
    try:
        body = response.json()
        text = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ProviderFailure(f"Malformed completion body: {_scrub(response.text[:300])!r}") from None
    if not isinstance(text, str) or not text.strip():
        raise ProviderFailure("Completion has no text content")
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return Completion(
        text=text,
        model=str(body.get("model") or model)[:64],
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        latency_ms=latency_ms,
    )


def _count(value) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def _demo_complete(*, model: str, messages: list[dict]) -> Completion:
    question = messages[-1]["content"]
    earlier = sum(1 for m in messages[:-1] if m["role"] == "user")
    text = (
        f"{DEMO_LABEL}\n\n"
        f"You said: \u201c{question[:200]}\u201d\n\n"
        f"This conversation has {earlier} earlier message{'s' if earlier != 1 else ''} from you "
        f"in its context, and the channel's model is `{model}`."
    )
    prompt_tokens = sum(estimate_tokens(m["content"]) for m in messages)
    return Completion(text, "demo", prompt_tokens, estimate_tokens(text), 0)
