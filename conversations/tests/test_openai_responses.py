"""POST /v1/responses (OpenAI's Responses API) and GET /v1/models/{id}, through the official `openai` Python package.

The client is used as shipped, with only `base_url` and `api_key` changed; its typed events and objects
(openai/types/responses/) are what the answers are checked against.
"""

import json

import openai
import pytest

from channels_app.models import Channel
from channels_app.services import channel_update
from conversations.models import FailedRequest
from conversations.tests.test_openai_tools import able, credits
from gateway.testing.api import history

WEATHER = [{"type": "function", "name": "get_weather", "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]


def test_text_input_with_instructions_is_answered_stored_and_charged(api, sdk, llm, key, channel):
    channel.system_prompt = "You are the shop's assistant."
    channel.save()
    answer = sdk.responses.create(model=channel.model, input="Hello", instructions="Answer briefly.", user="r-1")
    assert (answer.object, answer.status, answer.model) == ("response", "completed", channel.model)
    assert answer.id.startswith("resp_") and answer.output_text == "Echo: Hello"
    assert answer.output[0].type == "message" and answer.output[0].content[0].type == "output_text"
    assert (answer.usage.input_tokens, answer.usage.output_tokens, answer.usage.total_tokens) == (11, 7, 18)
    assert llm.requests[-1]["json"]["messages"] == [
        {"role": "system", "content": "You are the shop's assistant."},
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hello"},
    ]
    assert credits(channel) == 99
    assert [m["content"] for m in history(api, key, "r-1").json()["messages"]] == ["Hello", "Echo: Hello"]


def test_it_streams_the_responses_events_in_order(sdk, llm, channel):
    llm.reply = "one two three"
    with sdk.responses.stream(model=channel.model, input=[{"role": "user", "content": "Hi"}]) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "one two three"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert final.output_text == "one two three" and final.usage.output_tokens == 3
    assert credits(channel) == 99


@pytest.mark.parametrize("stream", [False, True])
def test_a_function_tool_round_trip(api, sdk, llm, key, channel, stream):
    able(channel.model, tools=True)
    llm.tool_calls = [("get_weather", '{"city": "Paris"}')]
    asked = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        with sdk.responses.stream(model=channel.model, input=asked, tools=WEATHER, user="r-tools") as events:
            kinds = [event.type for event in events]
            first = events.get_final_response()
        assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    else:
        first = sdk.responses.create(model=channel.model, input=asked, tools=WEATHER, tool_choice="auto", user="r-tools")
    call = first.output[0]
    assert (call.type, call.name, json.loads(call.arguments)) == ("function_call", "get_weather", {"city": "Paris"})
    final = sdk.responses.create(model=channel.model, tools=WEATHER, user="r-tools", input=[
        *asked,
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "22 degrees"},
    ])
    assert final.output_text == "Result: 22 degrees"
    assert llm.requests[0]["json"]["tools"] == [{"type": "function", "function": {
        k: v for k, v in WEATHER[0].items() if k != "type"}}]
    assert credits(channel) == 98
    stored = [m["content"] for m in history(api, key, "r-tools").json()["messages"]]
    assert stored[1] == f'[tool call get_weather({{"city": "Paris"}}) id={call.call_id}]'
    assert stored[2:] == [f"[tool result id={call.call_id}] 22 degrees", "Result: 22 degrees"]


def test_a_json_schema_format_is_forwarded_as_response_format(sdk, llm, channel):
    able(channel.model, json_schema=True)
    llm.reply = '{"name": "Paris"}'
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"],
              "additionalProperties": False}
    answer = sdk.responses.create(model=channel.model, input="A city", text={"format": {
        "type": "json_schema", "name": "city", "schema": schema, "strict": True}})
    assert json.loads(answer.output_text) == {"name": "Paris"}
    assert llm.requests[-1]["json"]["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "city", "schema": schema, "strict": True}}


def test_an_earlier_answer_can_be_named_by_item_reference(sdk, llm, channel, gateway_server, key):
    first = sdk.responses.create(model=channel.model, input="Hello")
    sdk.responses.create(model=channel.model, input=[
        {"role": "user", "content": "Hello"}, {"type": "item_reference", "id": first.output[0].id},
        {"role": "user", "content": "And now?"}])
    assert llm.requests[-1]["json"]["messages"][-2:] == [
        {"role": "assistant", "content": "Echo: Hello"}, {"role": "user", "content": "And now?"}]


def test_another_channels_items_cannot_be_referenced(sdk, llm, channel, owner, gateway_server):
    from channels_app.services import channel_create

    first = sdk.responses.create(model=channel.model, input="Hello")
    _, other_key = channel_create(owner=owner, name="Other site", credits=10)
    with openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=other_key.plaintext, max_retries=0) as other:
        with pytest.raises(openai.BadRequestError) as caught:
            other.responses.create(input=[{"type": "item_reference", "id": first.output[0].id},
                                          {"role": "user", "content": "x"}])
    assert caught.value.body["param"] == "input[0].id"


@pytest.mark.parametrize("extra, message, param", [
    ({"previous_response_id": "resp_1"}, "previous_response_id is not supported: send the whole conversation in input",
     "previous_response_id"),
    ({"tools": [{"type": "web_search"}]}, "Only function tools are supported (tools[0])", "tools[0]"),
    ({"background": True}, "background responses are not supported", "background"),
    ({"input": [{"type": "computer_call_output", "call_id": "c"}]},
     "Unsupported input item type: computer_call_output (input[0])", "input[0].type"),
    ({"conversation": "conv_1"}, "Unsupported field: conversation", "conversation"),
    ({"conversation": None}, "Unsupported field: conversation", "conversation"),  # null is as if absent only for known fields
])
def test_unknown_features_are_refused_in_openais_shape(sdk, llm, channel, extra, message, param):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(**{"model": channel.model, "input": "Hi", **extra})
    assert caught.value.body == {"message": message, "type": "invalid_request_error", "code": None, "param": param}
    assert llm.requests == [] and credits(channel) == 100


def test_the_fields_clients_send_are_accepted(sdk, llm, channel):
    able(channel.model, reasoning=False)  # a reasoning model's max_tokens has room to think on top (catalog.py)
    answer = sdk.responses.create(
        model=channel.model, input="Hi", store=False, metadata={"a": "b"}, temperature=0.2, top_p=0.9,
        max_output_tokens=50, truncation="disabled", reasoning={"effort": "low"}, text={"verbosity": "low"},
        parallel_tool_calls=True, include=["reasoning.encrypted_content"], service_tier="auto",
    )
    assert answer.output_text == "Echo: Hi"
    sent = llm.requests[-1]["json"]
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"]) == (0.2, 0.9, 50)


def test_a_stream_that_fails_raises_and_costs_nothing(sdk, llm, channel, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.mode, llm.reply = "stream_break", "one two three four"
    with pytest.raises(openai.APIError) as caught:
        list(sdk.responses.create(model=channel.model, input="Hi", stream=True))
    assert caught.value.message == "AI service error. Please try again."
    assert credits(channel) == 100
    assert FailedRequest.objects.filter(channel=channel, endpoint="v1-responses", status=500).count() == 1


def test_the_channels_rules_hold(api, sdk, llm, channel, widget_key, gateway_server):
    channel_update(channel=channel, client_system_messages=Channel.ClientSystemMessages.REFUSE)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(model=channel.model, input="Hi", instructions="Be terse.")
    assert caught.value.body["message"] == "This channel does not accept system messages from the client"
    Channel.objects.filter(pk=channel.pk).update(credits=0)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        sdk.responses.create(model=channel.model, input="Hi")
    assert caught.value.body["code"] == "insufficient_quota"
    with openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=widget_key, max_retries=0) as visitor:
        with pytest.raises(openai.PermissionDeniedError) as caught:
            visitor.responses.create(model=channel.model, input="Hi")
    assert caught.value.body["code"] == "secret_key_required"
    assert llm.requests == []


def test_an_idempotency_key_replays_a_response(sdk, llm, channel):
    once = {"Idempotency-Key": "resp-42"}
    first = sdk.responses.with_raw_response.create(model=channel.model, input="Hi", extra_headers=once)
    again = sdk.responses.with_raw_response.create(model=channel.model, input="Hi", extra_headers=once)
    assert again.headers["idempotent-replayed"] == "true" and again.parse().output_text == first.parse().output_text
    assert again.headers["x-session-id"] == first.headers["x-session-id"]  # a session of its own, the same for retries
    other = sdk.responses.with_raw_response.create(model=channel.model, input="Hi", extra_headers={"Idempotency-Key": "43"})
    assert other.headers["x-session-id"] != first.headers["x-session-id"]
    assert len(llm.requests) == 2 and credits(channel) == 98


def test_one_model_is_retrieved_by_id(sdk, llm, channel):
    assert sdk.models.retrieve(channel.model).id == channel.model
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.models.retrieve("gpt-4o")
    assert caught.value.body["code"] == "model_not_found"
