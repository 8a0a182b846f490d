"""Tool calling, structured output and the fields clients send on /v1/chat/completions, through the `openai` package.

The upstream is the loopback fake (gateway/testing/fake_llm.py), answering tool calls in OpenAI's and Groq's shapes;
what the model can do comes from the catalog (channels_app.providers.catalog_models.AiModel's capabilities).
"""

import json

import openai
import pytest

from channels_app.providers.catalog_models import AiModel
from conversations.models import Message
from gateway.testing.api import credits, history

WEATHER = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}}]
ASK = [{"role": "user", "content": "Weather in Paris?"}]
CITY = {"name": "city", "strict": True, "schema": {
    "type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": False}}


def able(slug: str, **capabilities) -> None:
    """Set what the catalog says the model can do (saved, so every process's snapshot is read again)."""
    model = AiModel.objects.get(slug=slug)
    for name, value in capabilities.items():
        setattr(model, f"supports_{name}", value)
    model.save()


@pytest.fixture
def tools_model(channel):
    able(channel.model, tools=True, json_object=True, json_schema=True)
    return channel.model


def round_trip(sdk, llm, model, *, stream: bool, session: str):
    """Call, tool result, final answer: the two requests a client makes, plain or streamed."""
    llm.tool_calls = [("get_weather", '{"city": "Paris"}')]
    if stream:
        chunks = list(sdk.chat.completions.create(model=model, messages=ASK, tools=WEATHER, stream=True,
                                                  stream_options={"include_usage": True}, user=session))
        pieces = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or ()]
        call_id = next(p.id for p in pieces if p.id)
        name = "".join(p.function.name or "" for p in pieces if p.function)
        arguments = "".join(p.function.arguments or "" for p in pieces if p.function)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
    else:
        first = sdk.chat.completions.create(model=model, messages=ASK, tools=WEATHER, tool_choice="auto",
                                            parallel_tool_calls=False, user=session)
        call = first.choices[0].message.tool_calls[0]
        call_id, name, arguments = call.id, call.function.name, call.function.arguments
        finish, pieces = first.choices[0].finish_reason, [call]
        assert first.choices[0].message.content is None
    assert (name, json.loads(arguments), finish) == ("get_weather", {"city": "Paris"}, "tool_calls")
    conversation = [*ASK,
                    {"role": "assistant", "content": None, "refusal": None, "tool_calls": [
                        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]},
                    {"role": "tool", "tool_call_id": call_id, "content": "22 degrees, sunny"}]
    final = sdk.chat.completions.create(model=model, messages=conversation, tools=WEATHER, user=session)
    return call_id, pieces, final


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("style", ["openai", "groq"])
def test_a_tool_round_trip_is_answered_stored_and_charged(api, sdk, llm, key, channel, tools_model, stream, style):
    llm.tool_style = style
    call_id, pieces, final = round_trip(sdk, llm, tools_model, stream=stream, session=f"tools-{style}-{stream}")
    assert final.choices[0].message.content == "Result: 22 degrees, sunny"
    assert final.choices[0].finish_reason == "stop"
    if stream and style == "openai":  # forwarded piece by piece as the provider sent them, not gathered
        assert len(pieces) > 2
    sent = llm.requests[0]["json"]
    assert sent["tools"] == WEATHER and sent["stream"] is stream
    assert llm.requests[1]["json"]["messages"][-2:] == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "22 degrees, sunny"},
    ]
    assert credits(channel) == 98
    stored = [m["content"] for m in history(api, key, f"tools-{style}-{stream}").json()["messages"]]
    assert stored == [
        "Weather in Paris?",
        f'[tool call get_weather({{"city": "Paris"}}) id={call_id}]',
        f"[tool result id={call_id}] 22 degrees, sunny",
        "Result: 22 degrees, sunny",
    ]
    tool_turn = Message.objects.filter(session__session_id=f"tools-{style}-{stream}", role="assistant").order_by("id")[0]
    assert tool_turn.cost > 0 and tool_turn.completion_tokens > 0


def test_a_model_without_tools_refuses_them_precisely_and_nothing_is_spent(sdk, llm, channel):
    able(channel.model, tools=False)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model=channel.model, messages=ASK, tools=WEATHER)
    assert caught.value.body == {"message": f"The model {channel.model} does not support tools",
                                 "type": "invalid_request_error", "code": "model_not_capable", "param": "tools"}
    assert llm.requests == [] and credits(channel) == 100


def test_the_fallback_answers_when_only_it_can_use_tools(sdk, llm, channel):
    fallback = AiModel.objects.filter(status="active").exclude(slug=channel.model).order_by("position", "slug")[0]
    channel.fallback_model = fallback.slug
    channel.save()
    able(channel.model, tools=False)
    able(fallback.slug, tools=True)
    answer = sdk.chat.completions.create(messages=ASK, tools=WEATHER, model=channel.model)
    assert [r["json"]["model"] for r in llm.requests] == [fallback.upstream_id or fallback.slug]
    assert answer.model == fallback.slug


def test_a_replayed_tool_call_answer_keeps_its_tool_calls(sdk, llm, channel, tools_model):
    llm.tool_calls = [("get_weather", '{"city": "Oslo"}')]
    # Without `user` or X-Session-Id: the retry is named the same session, so it is the same request.
    first = sdk.chat.completions.create(model=tools_model, messages=ASK, tools=WEATHER,
                                        extra_headers={"Idempotency-Key": "tool-once"})
    again = sdk.chat.completions.with_raw_response.create(model=tools_model, messages=ASK, tools=WEATHER,
                                                          extra_headers={"Idempotency-Key": "tool-once"})
    assert again.headers["idempotent-replayed"] == "true"
    replayed = again.parse().choices[0]
    assert replayed.finish_reason == "tool_calls"
    assert replayed.message.tool_calls[0].model_dump() == first.choices[0].message.tool_calls[0].model_dump()
    assert len(llm.requests) == 1 and credits(channel) == 99


@pytest.mark.parametrize("fmt, capability", [
    ({"type": "json_object"}, "json_object"),
    ({"type": "json_schema", "json_schema": CITY}, "json_schema"),
])
def test_structured_output_is_forwarded_where_supported_and_refused_where_not(sdk, llm, channel, fmt, capability):
    able(channel.model, **{capability: False})
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model=channel.model, messages=ASK, response_format=fmt)
    assert caught.value.body["code"] == "model_not_capable" and caught.value.body["param"] == "response_format"
    assert capability in caught.value.body["message"] and llm.requests == []
    able(channel.model, **{capability: True})
    llm.reply = '{"name": "Paris"}'
    answer = sdk.chat.completions.create(model=channel.model, messages=ASK, response_format=fmt)
    assert json.loads(answer.choices[0].message.content) == {"name": "Paris"}
    assert llm.requests[-1]["json"]["response_format"] == fmt


def test_the_sdks_typed_parse_gets_its_object(sdk, llm, tools_model):
    from pydantic import BaseModel

    class City(BaseModel):
        name: str

    llm.reply = '{"name": "Paris"}'
    parsed = sdk.chat.completions.parse(model=tools_model, messages=ASK, response_format=City)
    assert parsed.choices[0].message.parsed == City(name="Paris")
    assert llm.requests[-1]["json"]["response_format"]["json_schema"]["strict"] is True


def test_text_response_format_and_the_fields_clients_send_are_never_a_400(sdk, llm, channel):
    able(channel.model, reasoning=False)
    fields = {
        "seed": 7, "presence_penalty": 0, "frequency_penalty": 0.5, "logit_bias": {}, "logprobs": False,
        "top_logprobs": 0, "reasoning_effort": "low", "verbosity": "low", "service_tier": "auto", "user": "f-1",
        "store": False, "metadata": {"run": "1"}, "stop": ["\n\n"], "response_format": {"type": "text"},
        "tool_choice": "none", "prompt_cache_key": "k", "safety_identifier": "s",
    }
    answer = sdk.chat.completions.create(model=channel.model, messages=ASK, **fields)
    assert answer.choices[0].message.content == "Echo: Weather in Paris?"
    sent = llm.requests[-1]["json"]
    passed = {name: sent[name] for name in ("seed", "presence_penalty", "frequency_penalty", "stop")}
    assert passed == {"seed": 7, "presence_penalty": 0, "frequency_penalty": 0.5, "stop": ["\n\n"]}
    dropped = {"logit_bias", "logprobs", "top_logprobs", "reasoning_effort", "verbosity", "service_tier", "user",
               "store", "metadata", "response_format", "tool_choice", "prompt_cache_key", "safety_identifier"}
    assert not dropped & set(sent)


def test_reasoning_effort_reaches_a_reasoning_model_with_room_to_think(sdk, llm, channel):
    able(channel.model, reasoning=True)
    channel.max_reply_tokens = 500
    channel.save()
    sdk.chat.completions.create(model=channel.model, messages=ASK)
    sdk.chat.completions.create(model=channel.model, messages=ASK, reasoning_effort="high")
    default, high = (r["json"] for r in llm.requests)
    assert high["reasoning_effort"] == "high" and high["max_tokens"] > default["max_tokens"] > 500


def test_null_content_and_refusal_null_on_messages_are_accepted(sdk, llm, channel):
    conversation = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello", "refusal": None},
                    {"role": "user", "content": "Again", "name": "ann"}]
    sdk.chat.completions.create(model=channel.model, messages=conversation)
    assert llm.requests[-1]["json"]["messages"][-2:] == [
        {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again"}]


def test_images_are_refused_unless_the_model_has_vision(api, sdk, llm, key, channel):
    picture = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]
    able(channel.model, vision=False)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model=channel.model, messages=picture)
    assert caught.value.body["message"] == f"The model {channel.model} does not support images"
    assert caught.value.body["param"] == "messages[0].content[1]" and llm.requests == []
    able(channel.model, vision=True)
    sdk.chat.completions.create(model=channel.model, messages=picture, user="seen")
    assert llm.requests[-1]["json"]["messages"][-1]["content"][1]["image_url"]["url"] == "https://example.com/a.png"
    assert history(api, key, "seen").json()["messages"][0]["content"] == "What is this?[image]"


@pytest.mark.parametrize("extra, message, param", [
    ({"tools": [{"type": "web_search"}]}, "Only function tools are supported (tools[0])", "tools[0]"),
    ({"tools": WEATHER, "tool_choice": {"type": "function", "function": {"name": "other"}}},
     'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name"}} naming one of '
     "the tools", "tool_choice"),
    ({"tool_choice": "required"}, "tool_choice needs tools", "tool_choice"),
    ({"response_format": {"type": "xml"}},
     'response_format must be {"type": "text"}, {"type": "json_object"} or {"type": "json_schema", '
     '"json_schema": {...}}', "response_format"),
    ({"seed": "x"}, "seed must be an integer", "seed"),
    ({"presence_penalty": 3}, "presence_penalty must be a number from -2 to 2", "presence_penalty"),
    ({"logit_bias": []}, "logit_bias must be an object", "logit_bias"),
    ({"functions": [{"name": "f"}]}, "Unsupported field: functions", "functions"),
    ({"messages": [{"role": "tool", "content": "x"}]},
     "messages[0].tool_call_id must be the id of the tool call it answers", "messages[0].tool_call_id"),
])
def test_malformed_tool_and_control_fields_are_a_bad_request(sdk, llm, channel, tools_model, extra, message, param):
    body = {"model": channel.model, "messages": ASK, **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(**body)
    assert caught.value.body == {"message": message, "type": "invalid_request_error", "code": None, "param": param}
    assert llm.requests == [] and credits(channel) == 100


def test_the_owners_transcript_shows_the_call_and_the_result(owner_web, sdk, llm, channel, tools_model):
    from conversations.models import Session

    call_id, _, _ = round_trip(sdk, llm, tools_model, stream=False, session="seen-by-owner")
    session = Session.objects.get(channel=channel, session_id="seen-by-owner")
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/{session.thread}/seen-by-owner").text
    assert "[tool call get_weather(" in page and "Paris" in page and f"id={call_id}]" in page
    assert f"[tool result id={call_id}] 22 degrees, sunny" in page and "Result: 22 degrees, sunny" in page


def test_a_stream_is_refused_for_a_model_that_cannot_stream(sdk, llm, channel):
    able(channel.model, streaming=False)
    with pytest.raises(openai.BadRequestError) as caught:
        list(sdk.chat.completions.create(model=channel.model, messages=ASK, stream=True))
    assert caught.value.body["message"] == f"The model {channel.model} does not support streaming"
    assert caught.value.body["param"] == "stream" and llm.requests == [] and credits(channel) == 100
    assert sdk.chat.completions.create(model=channel.model, messages=ASK).choices[0].message.content
