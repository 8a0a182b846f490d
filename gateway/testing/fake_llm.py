"""An OpenAI-compatible /chat/completions server for tests and benchmarks.

A plain ASGI app, served for real over loopback (see servers.ThreadedUvicorn).
Its behaviour is switched per test: a normal reply, an error status, a broken
body, a hang, a dropped connection, or extra latency. It can also behave like
Groq today: a list of models at GET /v1/models that a test changes, models it
answers with Groq's 404 `model_not_found`, and reasoning (in `reasoning` /
`delta.reasoning` as gpt-oss sends it, or inline `<think>` blocks); and tool calls.

Tool calls (`tool_calls` set, the request has `tools`, its last message is not a
tool result) are answered in the shapes the providers use:
- answered whole: `message.content` null, `message.tool_calls` [{"id", "type":
  "function", "function": {"name", "arguments"}}], finish_reason "tool_calls"
  (the openai package's types/chat/chat_completion_message.py, 2026-12);
- streamed as OpenAI does (`tool_style` "openai"): a first piece with the index,
  id, type and name and empty arguments, then the arguments in fragments
  (types/chat/chat_completion_chunk.py ChoiceDeltaToolCall, all but `index`
  optional; OpenAI's function-calling guide, "Streaming");
- streamed as Groq does (`tool_style` "groq"): each call whole in one piece,
  ids like "call_785j" (github.com/vercel/ai/pull/1653, 2024-06-02: "Groq sends
  the entire tool call payload in a single delta"; github.com/BerriAI/litellm/issues/7621,
  2025-01-08), the usage in `x_groq.usage`.
A tool result as the last message is answered with text: "Result: <its content>".

POST /v1/embeddings answers each input with a deterministic vector (`embedding`): its words, lower case, each
counted in one of EMBEDDING_DIMENSIONS slots chosen by CRC-32, after `embedding_aliases` maps a word to another
(so a test can make "calcium" and "limescale" alike); usage counts the words as tokens.
"""

import asyncio
import json
import re
import time
import zlib

EMBEDDING_DIMENSIONS = 64


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
        self.tool_calls: list[tuple[str, str]] = []  # (name, arguments JSON) to call when the request has tools
        self.tool_style = "openai"  # how tool calls are streamed: "openai" (in fragments) or "groq" (whole)
        self.json_reply: str | None = None  # the reply when the request asks for JSON (response_format)
        # Scripted turns for an agent's run: each request with tools takes the next list of (name, arguments)
        # to call, whatever its last message; once they are used up, `tool_calls` applies.
        self.tool_turns: list[list[tuple[str, str]]] = []
        # GET /v1/models: these ids (None: the path answers 404, as a provider without the endpoint).
        self.listed_models: list[str] | None = ["openai/gpt-oss-120b", "openai/gpt-oss-20b"]
        self.gone_models: set[str] = set()  # answered as Groq answers a decommissioned id (404 model_not_found)
        self.reasoning: str | None = None  # sent beside the answer in `reasoning` (gpt-oss on Groq)
        self.think_inline = False  # the reasoning inline in the content as <think>…</think> instead
        self.answer_empty = False  # only reasoning, then finish_reason "length" (max_tokens spent thinking)
        self.chunk_chars: int | None = None  # stream the content this many characters at a time (not per word)
        self.embedding_aliases: dict[str, str] = {}  # word → the word whose slot it counts in (POST /v1/embeddings)
        self.embedding_status = 200  # anything else: POST /v1/embeddings answers this error (chats unaffected)

    def embedding(self, text: str) -> list[float]:
        """The vector POST /v1/embeddings gives `text` (not normalised)."""
        vector = [0.0] * EMBEDDING_DIMENSIONS
        for word in re.findall(r"\w+", text.lower()):
            word = self.embedding_aliases.get(word, word)
            vector[zlib.crc32(word.encode()) % EMBEDDING_DIMENSIONS] += 1.0
        return vector

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

        if scope["path"] == "/v1/models" and scope["method"] == "GET" and self.listed_models is not None:
            return await _respond(send, 200, {"object": "list", "data": [
                {"id": model, "object": "model", "created": 1754408224, "owned_by": "fake", "active": True,
                 "context_window": 131072, "max_completion_tokens": 65536} for model in self.listed_models
            ]})
        if scope["path"] == "/v1/embeddings" and scope["method"] == "POST" and self.embedding_status != 200:
            return await _respond(send, self.embedding_status, {"error": {"message": "embeddings unavailable"}})
        if scope["path"] == "/v1/embeddings" and scope["method"] == "POST" and self.mode == "ok":
            inputs = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
            words = sum(len(re.findall(r"\w+", text)) for text in inputs)
            return await _respond(send, 200, {"object": "list", "model": payload.get("model"), "data": [
                {"object": "embedding", "index": i, "embedding": self.embedding(text)} for i, text in enumerate(inputs)
            ], "usage": {"prompt_tokens": words, "total_tokens": words}})
        if scope["path"] != "/v1/chat/completions" or scope["method"] != "POST":
            return await _respond(send, 404, {"error": {"message": "not found"}})
        if payload and payload.get("model") in self.gone_models:
            return await _respond(send, 404, {"error": {
                "message": f"The model `{payload['model']}` does not exist or you do not have access to it.",
                "type": "invalid_request_error", "code": "model_not_found",
            }})
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
        last = payload["messages"][-1]
        if self.json_reply is not None and (payload.get("response_format") or {}).get("type") in ("json_object", "json_schema"):
            return self.json_reply
        if last["role"] == "tool":
            return f"Result: {last['content']}"
        content = last["content"]
        if isinstance(content, list):  # text and image parts
            content = "".join(part.get("text", "") for part in content)
        return self.reply if self.reply is not None else f"Echo: {content}"

    def calls_for(self, payload: dict) -> list[dict]:
        """The tool calls to answer with, or [] for a text answer."""
        if not payload.get("tools") or payload.get("tool_choice") == "none":
            return []
        if self.tool_turns:
            calls = self.tool_turns.pop(0)
        elif self.tool_calls and payload["messages"][-1]["role"] != "tool":
            calls = self.tool_calls
        else:
            return []
        return [{"id": f"call_{i}{time.monotonic_ns() % 10_000:04d}", "type": "function",
                 "function": {"name": name, "arguments": arguments}} for i, (name, arguments) in enumerate(calls)]

    def _content(self, payload: dict) -> str:
        """The content as sent: the answer, after an inline <think> block when asked; empty when cut thinking."""
        answer = "" if self.answer_empty else self.reply_text(payload)
        if self.think_inline and self.reasoning:
            return f"<think>{self.reasoning}</think>\n\n{answer}"
        return answer

    def _usage(self, content_tokens: int) -> dict:
        thought = len(self.reasoning.split()) if self.reasoning else 0
        usage = {"prompt_tokens": 11, "completion_tokens": content_tokens + thought,
                 "total_tokens": 11 + content_tokens + thought}
        if self.reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": thought}
        return usage

    def _finish(self) -> str:
        return "length" if self.answer_empty else "stop"

    async def _stream(self, receive, send, payload: dict) -> None:
        """OpenAI-style server-sent events: one chunk per word (or the tool calls' pieces), then [DONE]."""
        calls = self.calls_for(payload)
        if calls:
            return await self._stream_calls(send, payload, calls)
        content = self._content(payload)
        if self.chunk_chars:
            tokens = [content[i:i + self.chunk_chars] for i in range(0, len(content), self.chunk_chars)]
        else:
            words = content.split(" ")
            tokens = [w if i == 0 else " " + w for i, w in enumerate(words)] if content else []
        if self.reasoning and not self.think_inline:  # gpt-oss: the reasoning streams first, in delta.reasoning
            tokens = [("reasoning", w if i == 0 else " " + w) for i, w in enumerate(self.reasoning.split(" "))] + tokens
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
                field, text = token if isinstance(token, tuple) else ("content", token)
                chunk = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": payload.get("model"),
                         "choices": [{"index": 0, "delta": {field: text}, "finish_reason": None}]}
                await send({"type": "http.response.body", "body": f"data: {json.dumps(chunk)}\n\n".encode(), "more_body": True})
                if self.token_delay:
                    await asyncio.sleep(self.token_delay)
            if self.mode == "stream_no_done":
                await send({"type": "http.response.body", "body": b""})
                return
            final = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": payload.get("model"),
                     "choices": [{"index": 0, "delta": {}, "finish_reason": self._finish()}]}
            shown = sum(1 for token in tokens if not isinstance(token, tuple))
            if self.reasoning:  # as Groq: the usage on the last chunk's x_groq, reasoning tokens included
                final["x_groq"] = {"id": "req_fake", "usage": self._usage(shown)}
            tail = f"data: {json.dumps(final)}\n\n"
            if (payload.get("stream_options") or {}).get("include_usage"):
                # As OpenAI: only when asked, in one more chunk with no choices.
                usage = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": payload.get("model"), "choices": [],
                         "usage": self._usage(shown) if self.reasoning else
                         {"prompt_tokens": 11, "completion_tokens": len(tokens), "total_tokens": 11 + len(tokens)}}
                tail += f"data: {json.dumps(usage)}\n\n"
            await send({"type": "http.response.body", "body": (tail + "data: [DONE]\n\n").encode()})
        finally:
            gone.cancel()

    async def _stream_calls(self, send, payload: dict, calls: list[dict]) -> None:
        pieces = []
        for index, call in enumerate(calls):
            if self.tool_style == "groq":
                pieces.append({"index": index, **call})
                continue
            arguments = call["function"]["arguments"]
            pieces.append({"index": index, "id": call["id"], "type": "function",
                           "function": {"name": call["function"]["name"], "arguments": ""}})
            pieces += [{"index": index, "function": {"arguments": arguments[i:i + 4]}} for i in range(0, len(arguments), 4)]
        head = {"id": "chatcmpl-t", "object": "chat.completion.chunk", "model": payload.get("model")}
        events = [{**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}, "finish_reason": None}]}]
        events += [{**head, "choices": [{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}]} for piece in pieces]
        usage = {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}
        final = {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
        if self.tool_style == "groq":
            final["x_groq"] = {"id": "req_t", "usage": usage}
        events.append(final)
        if self.tool_style != "groq" and (payload.get("stream_options") or {}).get("include_usage"):
            events.append({**head, "choices": [], "usage": usage})
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for event in events:
            await send({"type": "http.response.body", "body": f"data: {json.dumps(event)}\n\n".encode(), "more_body": True})
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})

    def completion(self, payload: dict) -> dict:
        calls = self.calls_for(payload)
        if calls:
            return {
                "id": f"chatcmpl-{time.monotonic_ns()}", "object": "chat.completion", "created": int(time.time()),
                "model": payload.get("model", "unknown"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": calls},
                             "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52},
            }
        message = {"role": "assistant", "content": self._content(payload)}
        if self.reasoning and not self.think_inline:
            message["reasoning"] = self.reasoning
        return {
            "id": f"chatcmpl-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": payload.get("model", "unknown"),
            "choices": [{"index": 0, "message": message, "finish_reason": self._finish()}],
            "usage": self._usage(7) if self.reasoning else {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
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
