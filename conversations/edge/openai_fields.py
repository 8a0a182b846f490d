"""The OpenAI-compatible API's request fields beside the conversation: sampling and control fields, tools,
response_format. Each is checked (a malformed value is a 400 naming it), then passed on, passed on only to a
model with the capability, or dropped, by the table in docs/api.md ("The fields clients send")."""

import re

from conversations.engine import pipeline
from gateway.infra.errors import InvalidInput

# What becomes of the fields clients send (docs/api.md, "The fields clients send"): those in PASSED go to the
# provider as they are; DROPPED ones are checked and then not sent (the reason beside each).
PASSED = {"seed", "presence_penalty", "frequency_penalty"}
DROPPED = {
    "logit_bias", "logprobs", "top_logprobs",  # Groq answers 400 to each (console.groq.com/docs/openai); no logprobs come back
    "verbosity",  # OpenAI's GPT-5 alone takes it
    "service_tier",  # the catalog's prices are the provider's default tier
    "store", "metadata",  # the gateway stores the exchange itself; nothing is left with the provider
    "prompt_cache_key", "safety_identifier",  # OpenAI's own caching and abuse tracking
}
STOP_MAX = 4
TOOLS_MAX = 128
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BadField(InvalidInput):
    """A 400 that names the request field it is about (OpenAI's `param`)."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def known_fields(data: dict, allowed) -> dict:
    """`data` without its null fields (a known field that is null is as if absent), after refusing any field not in
    `allowed` whatever its value, null too, as OpenAI refuses an argument it does not know."""
    for name in sorted(data):
        if name not in allowed:
            raise BadField(f"Unsupported field: {name}", name)
    return {name: value for name, value in data.items() if value is not None}


def flag(data: dict, name: str, param: str | None = None) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise BadField(f"{param or name} must be true or false", param or name)
    return value


def sampling(data: dict, needs: dict) -> pipeline.Sampling:
    """The sampling and control fields: checked, then passed on, passed on to a capable model, or dropped."""
    limit = None
    for name in ("max_completion_tokens", "max_tokens"):
        if name in data:
            value = data[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BadField(f"{name} must be a positive integer", name)
            limit = value if limit is None else min(limit, value)
    stop = data.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (
        not isinstance(stop, list) or not 1 <= len(stop) <= STOP_MAX or not all(isinstance(s, str) and s for s in stop)
    ):
        raise BadField(f"stop must be a string or an array of 1 to {STOP_MAX} strings", "stop")
    passed = {}
    if "seed" in data:
        if not isinstance(data["seed"], int) or isinstance(data["seed"], bool):
            raise BadField("seed must be an integer", "seed")
        passed["seed"] = data["seed"]
    for name in ("presence_penalty", "frequency_penalty"):
        value = _number(data, name, 2, least=-2)
        if value is not None:
            passed[name] = value
    _check_dropped(data)
    passed |= tool_fields(data, needs)
    passed |= response_format(data.get("response_format"), needs)
    if_capable = {}
    if "reasoning_effort" in data:
        if data["reasoning_effort"] not in REASONING_EFFORTS:
            raise BadField(f"reasoning_effort must be one of {', '.join(REASONING_EFFORTS)}", "reasoning_effort")
        if_capable["reasoning"] = {"reasoning_effort": data["reasoning_effort"]}
    return pipeline.Sampling(
        temperature=_number(data, "temperature", 2), top_p=_number(data, "top_p", 1),
        stop=tuple(stop) if stop else None, max_tokens=limit, passed=passed, if_capable=if_capable,
    )


def _check_dropped(data: dict) -> None:
    """Fields that are not sent on are still checked, so a malformed one is a 400 as at OpenAI."""
    for name, kind, shape in (("logit_bias", dict, "an object"), ("metadata", dict, "an object"),
                              ("logprobs", bool, "true or false"), ("store", bool, "true or false"),
                              ("service_tier", str, "a string"), ("verbosity", str, "a string"),
                              ("prompt_cache_key", str, "a string"), ("safety_identifier", str, "a string")):
        if name in data and not isinstance(data[name], kind):
            raise BadField(f"{name} must be {shape}", name)
    top = data.get("top_logprobs")
    if top is not None and (not isinstance(top, int) or isinstance(top, bool) or not 0 <= top <= 20):
        raise BadField("top_logprobs must be an integer from 0 to 20", "top_logprobs")


def tool_fields(data: dict, needs: dict) -> dict:
    """`tools`, `tool_choice` and `parallel_tool_calls`, checked; function tools only."""
    tools = data.get("tools")
    choice = data.get("tool_choice")
    # Checked with or without tools: the schema says boolean either way.
    parallel = flag(data, "parallel_tool_calls") if "parallel_tool_calls" in data else None
    if tools is None or tools == []:
        if choice not in (None, "none", "auto"):
            raise BadField("tool_choice needs tools", "tool_choice")
        return {}  # no tools: tool_choice and parallel_tool_calls mean nothing (OpenAI refuses them then)
    if not isinstance(tools, list) or len(tools) > TOOLS_MAX:
        raise BadField(f"tools must be an array of at most {TOOLS_MAX} function tools", "tools")
    names = set()
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise BadField(f"Only function tools are supported (tools[{i}])", f"tools[{i}]")
        if set(tool) - {"type", "function"}:
            raise BadField(f"Unsupported field: tools[{i}].{sorted(set(tool) - {'type', 'function'})[0]}", f"tools[{i}]")
        check_function(function, f"tools[{i}].function")
        names.add(function["name"])
    passed = {"tools": tools}
    if choice is not None:
        named = choice.get("function", {}).get("name") if isinstance(choice, dict) and isinstance(choice.get("function"), dict) else None
        if choice not in ("none", "auto", "required") and not (choice.get("type") == "function" and named in names
                                                              if isinstance(choice, dict) else False):
            raise BadField('tool_choice must be "none", "auto", "required" or {"type": "function", "function": '
                           '{"name"}} naming one of the tools', "tool_choice")
        passed["tool_choice"] = choice
    if parallel is not None:
        passed["parallel_tool_calls"] = parallel
    needs["tools"] = "tools"
    return passed


def check_function(function: dict, where: str) -> None:
    unknown = sorted(set(function) - {"name", "description", "parameters", "strict"})
    if unknown:
        raise BadField(f"Unsupported field: {where}.{unknown[0]}", f"{where}.{unknown[0]}")
    name = function.get("name")
    if not isinstance(name, str) or not FUNCTION_NAME.fullmatch(name):
        raise BadField(f"{where}.name must be 1 to 64 letters, digits, _ or -", f"{where}.name")
    if not isinstance(function.get("parameters", {}), dict):
        raise BadField(f"{where}.parameters must be a JSON Schema object", f"{where}.parameters")
    if not isinstance(function.get("description", ""), str):
        raise BadField(f"{where}.description must be a string", f"{where}.description")
    if not isinstance(function.get("strict", False), bool):
        raise BadField(f"{where}.strict must be true or false", f"{where}.strict")


def response_format(value, needs: dict, param: str = "response_format") -> dict:
    """`text` (the default: not sent), `json_object` or `json_schema`, each sent only to a model that has it."""
    if value is None:
        return {}
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text" and set(value) == {"type"}:
        return {}
    if kind == "json_object" and set(value) == {"type"}:
        needs["json_object"] = param
        return {"response_format": value}
    if kind == "json_schema":
        schema = value.get("json_schema")
        if (set(value) != {"type", "json_schema"} or not isinstance(schema, dict)
                or not isinstance(schema.get("name"), str) or not FUNCTION_NAME.fullmatch(schema["name"])
                or not isinstance(schema.get("schema", {}), dict) or not isinstance(schema.get("strict", False), bool)
                or set(schema) - {"name", "schema", "strict", "description"}):
            raise BadField(f'{param}.json_schema must be {{"name", "schema", "strict", "description"}}', param)
        needs["json_schema"] = param
        return {"response_format": value}
    raise BadField(f'{param} must be {{"type": "text"}}, {{"type": "json_object"}} or {{"type": "json_schema", '
                   '"json_schema": {...}}', param)


def _number(data: dict, name: str, most: float, least: float = 0) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not least <= value <= most:
        raise BadField(f"{name} must be a number from {least} to {most}", name)
    return value
