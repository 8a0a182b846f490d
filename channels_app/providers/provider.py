"""The AI provider: any OpenAI-compatible /chat/completions endpoint, or the offline demo.

One shared aiohttp.ClientSession per event loop (a pool of keep-alive connections),
with explicit connect/read timeouts and an overall deadline per call. aiohttp, not
httpx, for this one call: measured against the bench's mock, httpx cost 0.71 ms of
CPU per request at 1 request in flight and 2.28 ms at 32 (httpcore polls every idle
pooled connection on each request), aiohttp 0.16 ms at both (docs/performance.md).
"""

import asyncio
import dataclasses
import json
import logging
import time
import weakref
from dataclasses import dataclass

import aiohttp
from django.conf import settings

from channels_app.providers import reasoning, resilience, tokens
from channels_app.providers.catalog import CatalogModel, Upstream, scrub
from channels_app.providers.page_context import is_page_context
from channels_app.providers.resilience import ProviderFailure
from gateway.infra.metrics import upstream_record

logger = logging.getLogger(__name__)

DEMO_TOKEN_DELAY = 0.02
DEMO_LABEL = "[Demo reply from the built-in offline provider: set LLM_API_KEY for real AI answers.]"


@dataclass(frozen=True)
class Completion:
    text: str
    model: str  # the catalog's id of the model that answered ("demo" for the offline demo)
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int | None  # upstream; None when no upstream answered (the offline demo)
    finish_reason: str = "stop"  # the provider's: "stop", "length" (max_tokens reached), "tool_calls", ...
    tokens_estimated: bool = False  # the provider sent no usage: the tokens were counted locally
    # Of completion_tokens, those the model reasoned in (billed like the answer's, never shown); None: not reported.
    reasoning_tokens: int | None = None
    # The functions the model asks the client to call, in OpenAI's shape ({"id", "type": "function",
    # "function": {"name", "arguments"}}); empty for a plain answer.
    tool_calls: tuple[dict, ...] = ()

    @property
    def transcript(self) -> str:
        """What is stored as the reply: its text, then each tool call on a line of its own, readable."""
        calls = [f"[tool call {call['function']['name']}({call['function']['arguments']}) id={call['id']}]"
                 for call in self.tool_calls]
        return "\n".join(([self.text] if self.text else []) + calls)


@dataclass(frozen=True)
class ToolCallDelta:
    """One piece of a streamed tool call as the provider sent it (an entry of OpenAI's `delta.tool_calls`)."""

    part: dict


class NoAnswer(ProviderFailure):
    """The model stopped at `max_tokens` (finish_reason "length") before writing any answer: it spent them reasoning."""

    def __init__(self):
        super().__init__("The model reached max_tokens before it wrote an answer (finish_reason: length)")


def require_answer(text: str, finish_reason: str) -> None:
    """An empty reply is a failure (nothing stored, nothing spent); cut off by the length cap, a failure of its own."""
    if not text.strip():
        if finish_reason == "length":
            raise NoAnswer()
        raise ProviderFailure("The provider's reply has no text content")


_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]" = weakref.WeakKeyDictionary()


def _timeout(upstream: Upstream) -> aiohttp.ClientTimeout:
    # The overall deadline (the provider's total timeout) is an asyncio.timeout around each call.
    connect, read, _ = upstream.timeouts()
    return aiohttp.ClientTimeout(
        total=None,
        connect=connect,  # a pooled connection or a new one, within this
        sock_connect=connect,
        sock_read=read,  # between two reads
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


async def _send(model: CatalogModel, payload: dict, *, stream: bool, deadline: float) -> aiohttp.ClientResponse:
    upstream = model.provider
    if not upstream.enabled:
        raise ProviderFailure(f"Provider {upstream.name} is disabled")
    headers = {"Content-Type": "application/json"}
    if upstream.api_key:  # a local vLLM or Ollama may want none
        headers["Authorization"] = f"Bearer {upstream.api_key}"
    if stream:
        headers["Accept"] = "text/event-stream"
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return await resilience.send(
        _session(), upstream.base_url + "/chat/completions", body=body, headers=headers, timeout=_timeout(upstream),
        deadline=deadline, breaker=resilience.breaker_for(upstream.base_url, model.upstream_model),
        secret=upstream.api_key,
    )


def _payload(model: CatalogModel, messages: list[dict], max_tokens: int, options: dict | None, *, stream: bool) -> dict:
    payload = {"model": model.upstream_model, "messages": messages, "max_tokens": max_tokens}
    if model.supports_reasoning:  # other models may refuse a parameter they do not know
        payload["reasoning_effort"] = model.reasoning_effort
    payload.update(options or {})
    payload["stream"] = stream
    if stream:
        # OpenAI, LiteLLM and vLLM send a stream's usage only when asked (a last chunk with no choices);
        # Groq sends x_groq.usage anyway and accepts the option.
        payload["stream_options"] = {"include_usage": True}
    return payload


async def complete(*, model: CatalogModel, messages: list[dict], max_tokens: int, options: dict | None = None) -> Completion:
    """The whole reply. `options`: sampling options passed on as they are (temperature, top_p, stop)."""
    if model.provider.demo:
        return _demo_complete(model=model, messages=messages)
    payload = _payload(model, messages, max_tokens, options, stream=False)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(model.provider.timeouts()[2]) as deadline:
            response = await _send(model, payload, stream=False, deadline=deadline.when())
            try:
                raw = await response.read()
            finally:
                response.release()
    except (TimeoutError, aiohttp.ClientError, ProviderFailure) as exc:
        raise _failure(exc, "answer", model) from None
    finally:
        upstream_record(time.perf_counter() - started)
    latency_ms = int((time.perf_counter() - started) * 1000)
    return _parse(raw, model=model, messages=messages, latency_ms=latency_ms)


def _failure(exc: Exception, what: str, model: CatalogModel) -> ProviderFailure:
    """One ProviderFailure for whatever ended a provider call, scrubbed for the log.

    A deadline or a broken read counts against the circuit breaker of the upstream
    and model (failures resilience.send saw itself are counted there already).
    """
    upstream = model.provider
    if isinstance(exc, ProviderFailure):
        return exc.scrubbed(upstream.api_key)
    resilience.breaker_for(upstream.base_url, model.upstream_model).failed()
    if isinstance(exc, aiohttp.ClientError):  # before TimeoutError: aiohttp's read timeouts are both
        return ProviderFailure(f"{resilience.describe(exc)} (reading the provider's {what})")
    return ProviderFailure(f"No complete {what} within {upstream.timeouts()[2]}s")


def _parse(raw: bytes, *, model: CatalogModel, messages: list[dict], latency_ms: int) -> Completion:
    try:
        body = json.loads(raw)
        message = body["choices"][0]["message"]
        content = message.get("content")
        calls = tuple(_tool_call(call) for call in message.get("tool_calls") or ())
        finish_reason = _reason(body["choices"][0].get("finish_reason"))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        shown = scrub(raw.decode("utf-8", "replace"), model.provider.api_key)[:300]
        raise ProviderFailure(f"Malformed completion body: {shown!r}") from None
    if content is not None and not isinstance(content, str):
        raise ProviderFailure("Completion content is not text")
    # The answer only: reasoning in a field of its own is not read as text, inline <think> blocks are taken out.
    text, inline = reasoning.split(content or "")
    if not calls:  # a reply of tool calls alone has no text
        require_answer(text, finish_reason)
    thought = reasoning.reasoning_of(message) + inline
    return completion_with_usage(text, model, messages, usage_of(body), latency_ms, finish_reason, thought, calls)


def _tool_call(call: dict) -> dict:
    """A tool call of the provider's answer, in OpenAI's shape; anything else is a malformed body (TypeError)."""
    function = call["function"]
    name, arguments = function["name"], function.get("arguments") or ""
    if not isinstance(call.get("id"), str) or not isinstance(name, str) or not isinstance(arguments, str):
        raise TypeError("tool call fields")
    return {"id": call["id"], "type": "function", "function": {"name": name, "arguments": arguments}}


def usage_of(body) -> dict | None:
    """The usage a provider's body or chunk reports: OpenAI's `usage` or Groq's `x_groq.usage`; None when neither."""
    if not isinstance(body, dict):
        return None
    for usage in (body.get("usage"), (body.get("x_groq") or {}).get("usage") if isinstance(body.get("x_groq"), dict) else None):
        if isinstance(usage, dict) and (_count(usage.get("prompt_tokens")) is not None or _count(usage.get("completion_tokens")) is not None):
            return usage
    return None


def completion_with_usage(text: str, model: CatalogModel, messages: list[dict], usage: dict | None, latency_ms: int,
                finish_reason: str, thought: str = "", tool_calls: tuple[dict, ...] = ()) -> Completion:
    """The reply with its tokens: the provider's, or counted here (marked estimated) for what it did not send.

    The provider's completion_tokens include the reasoning (OpenAI's and
    Groq's usage: completion_tokens_details.reasoning_tokens is a part of
    them), so the cost counts it; an estimate counts the reasoning text and
    the tool calls' arguments too.
    """
    usage = usage or {}
    prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
    details = usage.get("completion_tokens_details")
    reasoned = _count(details.get("reasoning_tokens")) if isinstance(details, dict) else None
    estimated = prompt is None or completion is None
    if prompt is None:
        prompt = tokens.count_messages(messages)
    if completion is None:
        reasoned = tokens.count(thought) if thought else reasoned
        completion = tokens.count(text) + (reasoned or 0) + sum(tokens.count(call["function"]["arguments"]) for call in tool_calls)
    return Completion(text, model.id, prompt, completion, latency_ms, finish_reason, estimated, reasoned, tool_calls)


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _reason(value) -> str:
    return value if isinstance(value, str) and value and len(value) <= 32 else "stop"


class CompletionStream:
    """The provider's reply as it is generated: iterate for text deltas (str) and tool-call pieces (ToolCallDelta).

    After a full iteration, `completion()` describes the whole reply. Any
    failure (status, connection, body, deadline) raises ProviderFailure.
    """

    def __init__(self, *, model: CatalogModel, messages: list[dict], max_tokens: int, options: dict | None = None):
        self.model, self.messages, self.max_tokens, self.options = model, messages, max_tokens, options or {}
        self.usage: dict | None = None
        self.finish_reason = "stop"
        self.latency_ms = 0
        self.demo: Completion | None = None
        self.think = reasoning.ThinkFilter()  # inline <think> blocks, also split across deltas
        self.reasoning: list[str] = []  # reasoning sent in a field of its own (counted if no usage comes)
        self.calls: dict[int, dict] = {}  # the tool calls streamed so far, by their index

    @property
    def tool_calls(self) -> tuple[dict, ...]:
        return tuple(self.calls[index] for index in sorted(self.calls))

    def completion(self, text: str) -> Completion:
        """The reply so far (all of it after a full iteration), with the stream's usage or an estimate."""
        if self.demo is not None:
            return dataclasses.replace(self.demo, text=text, completion_tokens=tokens.count(text))
        # A stream cut off before its end has no usage yet: what was sent is counted here.
        thought = "".join(self.reasoning) + "".join(self.think.thought)
        return completion_with_usage(
            text, self.model, self.messages, self.usage, self.latency_ms, self.finish_reason, thought, self.tool_calls
        )

    async def __aiter__(self):
        if self.model.provider.demo:
            self.demo = _demo_complete(model=self.model, messages=self.messages)
            for i, word in enumerate(self.demo.text.split(" ")):
                if i:
                    await asyncio.sleep(DEMO_TOKEN_DELAY)  # so a streaming demo visibly streams
                yield word if i == 0 else " " + word
            return
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.model.provider.timeouts()[2]) as deadline:
                async for delta in self._upstream(deadline.when()):
                    yield delta
        except (TimeoutError, aiohttp.ClientError, ProviderFailure) as exc:
            raise _failure(exc, "stream", self.model) from None
        finally:
            upstream_record(time.perf_counter() - started)
            self.latency_ms = int((time.perf_counter() - started) * 1000)

    async def _upstream(self, deadline: float):
        payload = _payload(self.model, self.messages, self.max_tokens, self.options, stream=True)
        response = await _send(self.model, payload, stream=True, deadline=deadline)
        try:
            async for raw_line in response.content:
                line = raw_line.decode("utf-8", "replace").rstrip("\r\n")
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alives
                data = line[5:].strip()
                if data == "[DONE]":
                    rest = self.think.finish()
                    if rest:
                        yield rest
                    return
                for item in self._parse_chunk(data):
                    delta = self.think.feed(item) if isinstance(item, str) else item
                    if delta:
                        yield delta
        finally:
            response.release()  # a body not read to its end closes the connection instead of pooling it
        raise ProviderFailure("The provider's stream ended without [DONE]")

    def _parse_chunk(self, data: str) -> list:
        """The chunk's text and tool-call pieces, in order; its finish reason and usage are kept."""
        try:
            chunk = json.loads(data)
            choices = chunk.get("choices") or []
            delta = (choices[0].get("delta") or {}) if choices else {}
            text = delta.get("content") or ""
            pieces = [self._tool_piece(part) for part in delta.get("tool_calls") or ()]
            thought = reasoning.reasoning_of(delta)
            if thought:
                self.reasoning.append(thought)
            if choices and choices[0].get("finish_reason"):
                self.finish_reason = _reason(choices[0]["finish_reason"])
        except (ValueError, AttributeError, IndexError, TypeError, KeyError):
            raise ProviderFailure(f"Malformed stream chunk: {scrub(data, self.model.provider.api_key)[:300]!r}") from None
        if not isinstance(text, str):
            raise ProviderFailure("Stream chunk content is not text")
        usage = usage_of(chunk)  # the last chunk's (OpenAI: a chunk with no choices; Groq: x_groq.usage)
        if usage is not None:
            self.usage = usage
        return ([text] if text else []) + pieces

    def _tool_piece(self, part: dict) -> ToolCallDelta:
        """Add a piece to its tool call: OpenAI sends the id and name first, then the arguments in fragments;
        Groq sends each call whole in one piece. Both are forwarded as they come."""
        index, function = part.get("index", len(self.calls)), part.get("function") or {}
        if not isinstance(index, int) or not isinstance(function, dict):
            raise TypeError("tool call piece")
        call = self.calls.setdefault(index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
        if isinstance(part.get("id"), str):
            call["id"] = part["id"]
        for name in ("name", "arguments"):
            if isinstance(function.get(name), str):
                call["function"][name] += function[name]
        return ToolCallDelta({**part, "index": index})


def _demo_complete(*, model: CatalogModel, messages: list[dict]) -> Completion:
    question = messages[-1]["content"]
    earlier = sum(1 for m in messages[:-1] if m["role"] == "user" and not is_page_context(m))
    text = (
        f"{DEMO_LABEL}\n\n"
        f"You said: \u201c{question[:200]}\u201d\n\n"
        f"This conversation has {earlier} earlier message{'s' if earlier != 1 else ''} from you "
        f"in its context, and the channel's model is `{model.id}`."
    )
    return Completion(text, "demo", tokens.count_messages(messages), tokens.count(text), None, tokens_estimated=True)
