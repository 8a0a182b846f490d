"""/api/schema/ and /api/docs/: a valid OpenAPI 3 document that matches what the API really answers."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource

from conversations.tests.test_openai_tools import able
from gateway.testing.api import WIDGET_ORIGIN, chat, chat_stream, history

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def schema(api):
    r = api.get("/api/schema/", params={"format": "json"})
    assert r.status_code == 200
    return r.json()


def test_the_schema_is_a_valid_openapi_3_document(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {"/api/chat", "/api/history", "/api/feedback", "/v1/chat/completions", "/v1/models",
                                   "/v1/models/{model}", "/v1/responses"}
    assert set(schema["paths"]["/api/history"]) == {"get", "delete"}  # delete: erasure, an extension


def test_it_describes_the_key_header_and_every_contract_status(schema):
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": schema["components"]["securitySchemes"]["ApiKeyAuth"]["description"],
    }
    chat_op = schema["paths"]["/api/chat"]["post"]
    assert chat_op["security"] == [{"ApiKeyAuth": []}]
    assert set(chat_op["responses"]) >= {"200", "400", "401", "403", "413", "415", "429", "500", "503"}
    assert set(chat_op["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    assert "Retry-After" in chat_op["responses"]["429"]["headers"]
    examples = json.dumps(chat_op["responses"])
    for message in ["Missing API key", "Invalid API key", "Site is inactive", "Rate limit exceeded",
                    "Daily limit exceeded", "AI service error. Please try again."]:
        assert message in examples
    body = schema["components"]["schemas"]["ChatInputRequest"]
    assert body["properties"]["message"]["maxLength"] == 2000
    assert body["properties"]["session_id"]["maxLength"] == 255
    assert body["additionalProperties"] is False


def test_the_committed_schema_matches_the_implementation(schema):
    """docs/openapi.json is what client generators use: regenerate it with `make openapi`."""
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert committed == schema


class Contract:
    """Validates real responses against the schema's description of them."""

    def __init__(self, schema):
        self.schema = schema
        self.registry = Registry().with_resource("root", Resource.opaque(schema))

    def check(self, path, method, response):
        operation = self.schema["paths"][path][method]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{method.upper()} {path} answered an undocumented {response.status_code}"
        media = response.headers["content-type"].split(";")[0]
        assert media in documented["content"], f"{response.status_code} answered undocumented {media}"
        if media == "application/json":
            spec = documented["content"][media]["schema"]
            spec = {**spec, "$ref": "root" + spec["$ref"]} if "$ref" in spec else spec
            OAS30Validator(spec, registry=self.registry).validate(response.json())


def test_real_round_trips_match_the_schema(schema, api, llm, channel, key):
    contract = Contract(schema)
    check_chat = lambda r: contract.check("/api/chat", "post", r)  # noqa: E731
    check_history = lambda r: contract.check("/api/history", "get", r)  # noqa: E731

    check_chat(chat(api, key, "Hi", metadata={"url": "https://a.example/", "title": "A"}))
    check_chat(chat_stream(api, key, "Hi there")[0])
    check_history(history(api, key))
    check_history(history(api, key, "unknown"))
    check_history(api.get("/api/history", headers={"X-API-Key": key}))
    check_chat(api.post("/api/chat", json={"message": ""}, headers={"X-API-Key": key}))
    check_chat(api.post("/api/chat", json={"message": "x", "session_id": "s"}))
    check_chat(chat(api, "amgai_wrong", "x"))
    check_chat(api.post("/api/chat", data={"message": "x"}, headers={"X-API-Key": key}))
    check_chat(api.post("/api/chat", content=b"{" + b" " * 70_000 + b"}", headers={"X-API-Key": key, "Content-Type": "application/json"}))
    llm.mode, llm.status = "status", 500
    check_chat(chat(api, key))
    channel.daily_limit = 1
    channel.save()
    llm.mode = "ok"
    check_chat(chat(api, key))
    check_chat(chat(api, key))  # 429
    channel.credits = 0
    channel.daily_limit = 100
    channel.save()
    check_chat(chat(api, key))  # 403
    channel.is_active = False
    channel.save()
    check_history(history(api, key))  # 403


def test_feedback_and_erasure_round_trips_match_the_schema(schema, api, llm, channel, key, widget_key):
    contract = Contract(schema)
    check_feedback = lambda r: contract.check("/api/feedback", "post", r)  # noqa: E731
    check_erase = lambda r: contract.check("/api/history", "delete", r)  # noqa: E731

    chat(api, key, "Hi")
    check_feedback(api.post("/api/feedback", json={"session_id": "s-1", "rating": "up", "comment": "ok"}, headers={"X-API-Key": key}))
    check_feedback(api.post("/api/feedback", json={"session_id": "nope", "rating": "up"}, headers={"X-API-Key": key}))  # 404
    check_feedback(api.post("/api/feedback", json={"session_id": "s-1"}, headers={"X-API-Key": key}))  # 400
    check_feedback(api.post("/api/feedback", json={"session_id": "s-1", "rating": "up"}))  # 401
    check_feedback(api.post("/api/feedback", data={"x": "y"}, headers={"X-API-Key": key}))  # 415
    check_erase(api.delete("/api/history", params={"session_id": "s-1"}, headers={"X-API-Key": key}))
    check_erase(api.delete("/api/history", headers={"X-API-Key": key}))  # 400
    check_erase(api.delete("/api/history", params={"session_id": "s-1"}))  # 401
    check_erase(api.delete("/api/history", params={"session_id": "s-1", "key": widget_key}, headers={"Origin": WIDGET_ORIGIN}))
    channel.is_active = False
    channel.save()
    check_erase(api.delete("/api/history", params={"session_id": "s-1"}, headers={"X-API-Key": key}))  # 403
    check_feedback(api.post("/api/feedback", json={"session_id": "s-1", "rating": "up"}, headers={"X-API-Key": key}))  # 403


def test_the_docs_page_serves_its_assets_from_this_server(api):
    r = api.get("/api/docs/")
    assert r.status_code == 200
    assert "<script" in r.text
    assert not re.search(r"""(src|href)=["']https?://""", r.text)
    assets = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", r.text)
    assert any("swagger-ui" in a for a in assets)
    for asset in assets:
        assert api.get(asset).status_code == 200, asset


def test_the_schema_is_generated_once_per_process_and_format(api, monkeypatch):
    # An unauthenticated GET cost ≈ 27 ms of CPU while every request generated it (gateway/infra/api_docs.py).
    from drf_spectacular.generators import SchemaGenerator

    from gateway.infra.api_docs import SchemaView

    generated = []
    original = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        generated.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    monkeypatch.setattr(SchemaView, "_rendered", {})
    answers = {}
    for params, accept in (({"format": "json"}, None), ({}, None), ({}, "application/vnd.oai.openapi+json")):
        first, second = (api.get("/api/schema/", params=params, headers={"Accept": accept} if accept else {})
                         for _ in range(2))
        assert first.status_code == second.status_code == 200
        same = lambda r: {k: v for k, v in r.headers.items() if k not in ("date", "x-gateway-overhead-ms")}  # noqa: E731
        assert first.content == second.content and same(first) == same(second)
        answers[first.headers["content-type"]] = first
    assert len(generated) == len(answers) >= 2  # one generation per format (JSON and YAML), not per request
    json_answer = next(a for t, a in answers.items() if "json" in t)
    assert json_answer.json()["paths"].keys() >= {"/api/chat", "/api/history"}
    assert "openapi: 3" in next(a for t, a in answers.items() if "json" not in t).text


def test_a_responses_stream_names_only_the_events_the_schema_names(schema, api, llm, channel, key):
    """/v1/responses streams named events (`event: response.created`, …), unlike /v1/chat/completions' unnamed ones:
    its schema lists each name, and a real stream, with text and with a tool call, uses no other."""
    operation = schema["paths"]["/v1/responses"]["post"]["responses"]["200"]["content"]["text/event-stream"]["schema"]
    spec = schema["components"]["schemas"][operation["$ref"].rsplit("/", 1)[1]] if "$ref" in operation else operation
    named = set(spec["properties"]["event"]["enum"])
    seen = set()
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
    able(channel.model, tools=True)
    for body, calls in (({"input": "Hi"}, []), ({"input": "Look it up", "tools": [tool]}, [("lookup", "{}")])):
        llm.tool_calls = calls
        r = api.post("/v1/responses", json={"model": channel.model, "stream": True, **body},
                     headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200, r.text
        seen |= set(re.findall(r"^event: (\S+)$", r.text, flags=re.M))
    assert "response.created" in seen and "response.completed" in seen
    assert seen <= named, seen - named


def test_a_replayed_response_matches_the_schema(schema, api, llm, channel, key):
    """A repeated Idempotency-Key on /v1/responses replays the stored answer, whose token counts are not kept: its
    `usage` is null, and the schema says it may be."""
    contract = Contract(schema)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "replay-usage-1"}
    body = {"model": channel.model, "input": "Hi"}
    first = api.post("/v1/responses", json=body, headers=headers)
    again = api.post("/v1/responses", json=body, headers=headers)
    assert first.json()["usage"] is not None and again.json()["usage"] is None
    for answer in (first, again):
        contract.check("/v1/responses", "post", answer)


# Python's whitespace, ECMAScript's only whitespace (the BOM), and plain text.
_EDGE_TEXTS = [chr(c) for c in range(0x110000) if chr(c).isspace()] + ["\ufeff", "a", " a "]


@pytest.mark.node
def test_a_client_validating_with_the_schemas_pattern_agrees_with_the_server_on_blank_text(schema, api, llm, channel, key):
    """A client checks `pattern` with ECMAScript's regular expressions, where `\\s` is not Python's: each text the
    pattern accepts, the server accepts, and each it refuses, the server refuses as blank."""
    import subprocess

    pattern = schema["components"]["schemas"]["FeedbackInputRequest"]["properties"]["session_id"]["pattern"]
    assert schema["components"]["schemas"]["ChatInputRequest"]["properties"]["session_id"]["pattern"] == pattern
    verdicts = json.loads(subprocess.run(
        ["node", "-e", "const r = new RegExp(process.argv[1]); console.log(JSON.stringify(JSON.parse(process.argv[2]).map(t => r.test(t))))",
         pattern, json.dumps(_EDGE_TEXTS)], capture_output=True, text=True, check=True).stdout)
    chat(api, key, "Hi", session_id="s-1")
    for text, valid in zip(_EDGE_TEXTS, verdicts, strict=True):
        r = api.post("/api/feedback", json={"session_id": text, "rating": "up"}, headers={"X-API-Key": key})
        blank = r.status_code == 400 and r.json() == {"error": "session_id must not be empty"}
        assert valid is not blank, (hex(ord(text[0])), r.status_code, r.text)


def test_the_schema_takes_the_blank_metadata_the_api_takes(schema, api, llm, channel, key):
    """A blank page title or url is accepted by /api/chat, and the request schema says so (a blank string matched
    both of drf-spectacular's `oneOf` branches, so a validating client refused it)."""
    body = {"message": "Hi", "session_id": "s", "metadata": {"title": "", "url": ""}}
    spec = {"$ref": "root#/components/schemas/ChatInputRequest"}
    OAS30Validator(spec, registry=Contract(schema).registry).validate(body)
    assert api.post("/api/chat", json=body, headers={"X-API-Key": key}).status_code == 200
    with pytest.raises(jsonschema.ValidationError, match="is not valid under any of the given schemas"):
        OAS30Validator(spec, registry=Contract(schema).registry).validate({**body, "metadata": {"title": "a\nb"}})


@pytest.mark.parametrize("path, body", [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}]}),
    ("/v1/responses", {"input": "Hi"}),
])
def test_v1_takes_each_known_field_as_null_and_its_schema_says_so(schema, api, llm, channel, key, path, body):
    """A known field that is null is as if absent (docs/api.md): the schema allows null for each optional field, and
    the API answers a body that sends every one of them as null."""
    request = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    nulls = {**{name: None for name in request["properties"] if name not in request["required"]}, **body}
    OAS30Validator(request, registry=Contract(schema).registry).validate(nulls)
    r = api.post(path, json=nulls, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    with pytest.raises(jsonschema.ValidationError):
        OAS30Validator(request, registry=Contract(schema).registry).validate({**nulls, "unknown": None})
