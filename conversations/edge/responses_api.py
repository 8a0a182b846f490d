"""OpenAI's Responses API (POST /v1/responses): a request read into a Chat Completions body, and the answers.

Not a second chat path: the request is rewritten into the body /v1/chat/completions
takes (conversations/edge/openai_api.py reads and checks it into the pipeline's
ChatRequest), and the pipeline's ChatReply becomes a `response` object, or,
streamed, the Responses events (an encoder for conversations/edge/streaming.py).

The shapes are OpenAI's, as the `openai` Python package (3.51) types them under
openai/types/responses/: response.py (Response), response_output_message.py,
response_output_text.py, response_function_tool_call.py, response_usage.py, and
the events in response_stream_event.py (response.created, response.in_progress,
response.output_item.added/.done, response.content_part.added/.done,
response.output_text.delta/.done, response.function_call_arguments.delta/.done,
response.completed, error), each with its `sequence_number`.

Decisions (docs/api.md, "POST /v1/responses"): nothing is kept at the provider
and no response can be fetched back, so `previous_response_id`, `conversation`,
`prompt` and `background` are refused; an `item_reference` names an answer the
gateway gave this channel (kept RESPONSE_ITEMS_SECONDS), which the Vercel AI
SDK sends instead of the assistant's earlier text.
"""

import time
import uuid

from django.core.cache import cache

from channels_app.models import Channel
from channels_app.providers.catalog import Snapshot
from conversations.edge import openai_api, openai_fields, sse
from conversations.edge.openai_fields import BadField
from conversations.engine import pipeline
from gateway.infra.endpoints import V1
from gateway.infra.errors import ProviderError, error_body

RESPONSE_ITEMS_SECONDS = 24 * 3600
# Fields taken as /v1/chat/completions takes them (its table in docs/api.md says what becomes of each).
SAME = {"model", "stream", "temperature", "top_p", "user", "store", "metadata", "service_tier", "parallel_tool_calls",
        "prompt_cache_key", "safety_identifier", "top_logprobs"}
READ_HERE = {"input", "instructions", "tools", "tool_choice", "max_output_tokens", "text", "reasoning", "include",
             "truncation", "stream_options", "previous_response_id", "background"}
INCLUDES = {"message.output_text.logprobs", "reasoning.encrypted_content"}  # nothing to include: accepted, not sent
ROLES = {"user", "assistant", "system", "developer"}


def read(data, *, channel: Channel, session_header: str | None, once: str | None = None,
         served: Snapshot | None = None) -> openai_api.CompletionRequest:
    """The body, checked and rewritten for openai_api.read; raises BadField (400) naming the field."""
    if not isinstance(data, dict):
        raise BadField("Request body must be a JSON object")
    data = openai_fields.known_fields(data, SAME | READ_HERE)
    if data.get("previous_response_id"):
        raise BadField("previous_response_id is not supported: send the whole conversation in input",
                       "previous_response_id")
    if data.get("background", False) is not False:
        raise BadField("background responses are not supported", "background")
    if data.get("truncation", "disabled") not in ("disabled", "auto"):
        raise BadField('truncation must be "disabled" or "auto"', "truncation")
    include = data.get("include", [])
    if not isinstance(include, list) or any(item not in INCLUDES for item in include):
        raise BadField(f"include may only name {', '.join(sorted(INCLUDES))}", "include")
    options = data.get("stream_options", {})
    if not isinstance(options, dict) or set(options) - {"include_obfuscation"}:
        raise BadField("stream_options takes only include_obfuscation", "stream_options")
    if not isinstance(options.get("include_obfuscation", False), bool):
        raise BadField("stream_options.include_obfuscation must be true or false", "stream_options.include_obfuscation")
    body = {name: data[name] for name in SAME if name in data}
    if "max_output_tokens" in data:
        body["max_completion_tokens"] = data["max_output_tokens"]
    body["messages"] = _messages(data.get("input"), data.get("instructions"), channel.pk)
    if "tools" in data:
        body["tools"] = _tools(data["tools"])
    if "tool_choice" in data:
        body["tool_choice"] = _tool_choice(data["tool_choice"])
    body |= _text(data.get("text"))
    reasoning = data.get("reasoning")
    if reasoning is not None:
        if not isinstance(reasoning, dict) or set(reasoning) - {"effort", "summary", "generate_summary"}:
            raise BadField("reasoning takes effort and summary", "reasoning")
        if reasoning.get("effort") is not None:
            body["reasoning_effort"] = reasoning["effort"]
    return openai_api.read(body, channel=channel, session_header=session_header, once=once, served=served)


def _messages(items, instructions, channel_id: int) -> list[dict]:
    """`instructions` and `input` as Chat Completions messages."""
    messages = []
    if instructions is not None:
        if not isinstance(instructions, str):
            raise BadField("instructions must be a string", "instructions")
        messages.append({"role": "system", "content": instructions})
    if isinstance(items, str):
        return messages + [{"role": "user", "content": items}]
    if not isinstance(items, list) or not items:
        raise BadField("input must be a string or a non-empty array of items", "input")
    for i, item in enumerate(items):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise BadField(f"{where} must be an object", where)
        kind = item.get("type", "message")
        if kind == "item_reference":
            item = _referenced(item.get("id"), channel_id, where)
            kind = item.get("type", "message")
        if kind == "message":
            messages.append(_message(item, where))
        elif kind == "function_call":
            call = {"id": item.get("call_id"), "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments")}}
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and isinstance(last.get("tool_calls"), list):
                last["tool_calls"].append(call)  # parallel calls: one assistant message, as Chat Completions has them
            elif last is not None and last["role"] == "assistant" and not last.get("tool_calls"):
                last["tool_calls"] = [call]
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            if isinstance(output, list):
                output = [{"type": "text", "text": part.get("text")} if isinstance(part, dict)
                          and part.get("type") == "input_text" else part for part in output]
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": output})
        else:
            raise BadField(f"Unsupported input item type: {kind} ({where})", f"{where}.type")
    return messages


def _message(item: dict, where: str) -> dict:
    unknown = sorted(set(item) - {"type", "role", "content", "id", "status", "phase"})
    if unknown:
        raise BadField(f"Unsupported field: {where}.{unknown[0]}", f"{where}.{unknown[0]}")
    role, content = item.get("role"), item.get("content")
    if role not in ROLES:
        raise BadField(f"{where}.role must be user, assistant, system or developer", f"{where}.role")
    if isinstance(content, list):
        content = [_part(part, f"{where}.content[{j}]") for j, part in enumerate(content)]
    return {"role": role, "content": content}


def _part(part, where: str) -> dict:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind in ("input_text", "output_text") and isinstance(part.get("text"), str):
        return {"type": "text", "text": part["text"]}
    if kind == "input_image" and isinstance(part.get("image_url"), str):
        image = {"url": part["image_url"]} | ({"detail": part["detail"]} if part.get("detail") else {})
        return {"type": "image_url", "image_url": image}
    raise BadField(f"Only input_text, output_text and input_image (by URL) parts are supported ({where})", where)


def _tools(tools) -> list:
    if not isinstance(tools, list):
        raise BadField("tools must be an array of function tools", "tools")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise BadField(f"Only function tools are supported (tools[{i}])", f"tools[{i}]")
        unknown = sorted(set(tool) - {"type", "name", "description", "parameters", "strict"})
        if unknown:
            raise BadField(f"Unsupported field: tools[{i}].{unknown[0]}", f"tools[{i}].{unknown[0]}")
        function = {name: tool[name] for name in ("name", "description", "parameters", "strict") if tool.get(name) is not None}
        openai_fields.check_function(function, f"tools[{i}]")
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice):
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return choice  # "none", "auto", "required"; anything else is refused by openai_api


def _text(text) -> dict:
    """`text.format` as Chat Completions' response_format; `text.verbosity` is dropped like `verbosity` there."""
    if text is None:
        return {}
    if not isinstance(text, dict) or set(text) - {"format", "verbosity"}:
        raise BadField("text takes format and verbosity", "text")
    fmt = text.get("format")
    body = {"verbosity": text["verbosity"]} if text.get("verbosity") is not None else {}
    if fmt is None:
        return body
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = {name: fmt[name] for name in ("name", "schema", "strict", "description") if fmt.get(name) is not None}
        if set(fmt) - {"type", "name", "schema", "strict", "description"}:
            raise BadField('text.format must be {"type": "json_schema", "name", "schema", "strict", "description"}', "text.format")
        fmt = {"type": "json_schema", "json_schema": schema}
    openai_fields.response_format(fmt, {}, "text.format")  # checked here so that the 400 names text.format
    return body | {"response_format": fmt}


def _referenced(item_id, channel_id: int, where: str) -> dict:
    """An item of an earlier answer to this channel, by its id."""
    item = cache.get(_item_key(channel_id, item_id)) if isinstance(item_id, str) and item_id else None
    if item is None:
        raise BadField(f"{where}: no item {item_id!r} is kept for this channel; send the item itself", f"{where}.id")
    return item


def _item_key(channel_id: int, item_id: str) -> str:
    return f"v1-response-item:{channel_id}:{item_id}"


async def keep_items(channel_id: int, body: dict) -> None:
    """Keep an answer's message items, so a later request can name them by `item_reference`."""
    for item in body["output"]:
        if item["type"] == "message":
            await cache.aset(_item_key(channel_id, item["id"]), item, RESPONSE_ITEMS_SECONDS)


# --- The answers ---


def usage(reply: pipeline.ChatReply) -> dict | None:
    completion = reply.completion
    if completion is None:  # a replayed answer: its token counts are not kept with it
        return None
    prompt, output = completion.prompt_tokens or 0, completion.completion_tokens or 0
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": prompt + output}


class ResponseShape:
    """The parts of a `response` object that do not depend on the reply: its id, the request's settings."""

    def __init__(self, data: dict, asked: openai_api.CompletionRequest):
        self.id, self.created_at = f"resp_{uuid.uuid4().hex}", int(time.time())
        self.model = asked.model
        data = {name: value for name, value in data.items() if value is not None} if isinstance(data, dict) else {}
        self.settings = {
            "instructions": data.get("instructions"), "max_output_tokens": data.get("max_output_tokens"),
            "metadata": data.get("metadata") or {}, "parallel_tool_calls": data.get("parallel_tool_calls", True),
            "previous_response_id": None, "reasoning": {"effort": None, "summary": None},
            "store": False, "temperature": data.get("temperature", 1.0), "text": {"format": {"type": "text"}},
            "tool_choice": data.get("tool_choice", "auto"), "tools": data.get("tools", []),
            "top_p": data.get("top_p", 1.0), "truncation": data.get("truncation", "disabled"), "user": data.get("user"),
        }
        if isinstance(data.get("text"), dict) and data["text"].get("format"):
            self.settings["text"] = {"format": data["text"]["format"]}

    def body(self, *, status: str, output: list, reply: pipeline.ChatReply | None = None) -> dict:
        incomplete = None
        if reply is not None and reply.completion is not None and reply.completion.finish_reason == "length":
            status, incomplete = "incomplete", {"reason": "max_output_tokens"}
        model = reply.completion.model if reply is not None and reply.completion is not None else self.model
        return {"id": self.id, "object": "response", "created_at": self.created_at, "status": status, "error": None,
                "incomplete_details": incomplete, "model": model, "output": output, **self.settings,
                "usage": usage(reply) if reply is not None else None}


def message_item(item_id: str, text: str, status: str = "completed") -> dict:
    return {"id": item_id, "type": "message", "status": status, "role": "assistant",
            "content": [text_part(text)] if status == "completed" else []}


def text_part(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def call_item(item_id: str, call: dict, status: str = "completed") -> dict:
    return {"id": item_id, "type": "function_call", "status": status, "call_id": call["id"],
            "name": call["function"]["name"], "arguments": call["function"]["arguments"]}


def response_body(reply: pipeline.ChatReply, shape: ResponseShape) -> dict:
    """The `response` object for the pipeline's reply."""
    output = [message_item(f"msg_{uuid.uuid4().hex}", reply.reply)] if reply.reply else []
    output += [call_item(f"fc_{uuid.uuid4().hex}", call) for call in reply.tool_calls or ()]
    return shape.body(status="completed", output=output, reply=reply)


class ResponseEvents:
    """The stream's encoder (conversations/edge/streaming.py): the Responses API's events, each numbered."""

    def __init__(self, shape: ResponseShape):
        self.shape = shape
        self.number = -1
        self.output: list[dict] = []  # the items so far, as the last `response.completed` lists them
        self.text_item: dict | None = None  # the message item being written, while it is
        self.calls: dict[int, dict] = {}  # the function-call items by the provider's tool-call index
        self.opened = False
        self.body: dict | None = None  # the whole response, once `response.completed` was written

    def _event(self, kind: str, **fields) -> bytes:
        self.number += 1
        return sse.event(kind, {"type": kind, "sequence_number": self.number, **fields})

    def _open(self) -> bytes:
        if self.opened:
            return b""
        self.opened = True
        response = self.shape.body(status="in_progress", output=[])
        return self._event("response.created", response=response) + self._event("response.in_progress", response=response)

    def token(self, delta: str) -> bytes:
        out = self._open()
        if self.text_item is None:
            self.text_item = message_item(f"msg_{uuid.uuid4().hex}", "", status="in_progress")
            self.text_item["text"] = ""
            self.output.append(self.text_item)
            out += self._event("response.output_item.added", output_index=len(self.output) - 1,
                               item=message_item(self.text_item["id"], "", status="in_progress"))
            out += self._event("response.content_part.added", item_id=self.text_item["id"],
                               output_index=len(self.output) - 1, content_index=0, part=text_part(""))
        self.text_item["text"] += delta
        return out + self._event("response.output_text.delta", item_id=self.text_item["id"],
                                 output_index=self.output.index(self.text_item), content_index=0, delta=delta, logprobs=[])

    def _close_text(self) -> bytes:
        item = self.text_item
        if item is None:
            return b""
        self.text_item = None
        index, text = self.output.index(item), item.pop("text")
        self.output[index] = message_item(item["id"], text)
        return (self._event("response.output_text.done", item_id=item["id"], output_index=index, content_index=0,
                            text=text, logprobs=[])
                + self._event("response.content_part.done", item_id=item["id"], output_index=index, content_index=0,
                              part=text_part(text))
                + self._event("response.output_item.done", output_index=index, item=self.output[index]))

    def tool_call(self, part: dict) -> bytes:
        out = self._open() + self._close_text()
        function = part.get("function") or {}
        call = self.calls.get(part["index"])
        if call is None:
            call = {"id": f"fc_{uuid.uuid4().hex}", "call": {"id": part.get("id") or "", "type": "function",
                                                                "function": {"name": function.get("name") or "", "arguments": ""}}}
            self.calls[part["index"]] = call
            self.output.append(call)
            out += self._event("response.output_item.added", output_index=len(self.output) - 1,
                               item=call_item(call["id"], call["call"], status="in_progress"))
        arguments = function.get("arguments") or ""
        if arguments:
            call["call"]["function"]["arguments"] += arguments
            out += self._event("response.function_call_arguments.delta", item_id=call["id"],
                               output_index=self.output.index(call), delta=arguments)
        return out

    def replayed(self, reply: pipeline.ChatReply) -> bytes:
        return b"".join(self.tool_call({"index": i, **call}) for i, call in enumerate(reply.tool_calls or ()))

    def done(self, reply: pipeline.ChatReply) -> bytes:
        out = self._open() + self._close_text()
        for index, entry in enumerate(self.output):
            if entry.get("type") == "message":
                continue
            item = call_item(entry["id"], entry["call"])
            self.output[index] = item
            out += self._event("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                               name=item["name"], arguments=item["arguments"])
            out += self._event("response.output_item.done", output_index=index, item=item)
        self.body = self.shape.body(status="completed", output=self.output, reply=reply)
        return out + self._event("response.completed", response=self.body)

    def error(self, error: ProviderError) -> bytes:
        # OpenAI's ResponseErrorEvent (code, message, param), with the error also nested as the SDKs read it.
        nested = error_body(V1, error.message, status=error.status, code=ProviderError.openai_code)["error"]
        return self._open() + self._event("error", code=nested["code"], message=nested["message"], param=None,
                                          error=nested)
