"""/v1/chat/completions and /v1/models through the official `openai` Python package, against the real gateway.

The client is used as shipped, with only `base_url` and `api_key` changed (and its own retries off, so
each error reaches the test once).
"""

import asyncio

import openai
import pytest

from channels_app.models import ApiKey, Channel
from channels_app.providers.catalog import REASONING_ROOM
from channels_app.services import api_key_revoke, channel_update
from conversations.models import FailedRequest, Message
from gateway.testing.api import chat, credits, history

HELLO = [{"role": "user", "content": "Hello"}]


def test_it_answers_a_plain_completion(api, sdk, llm, key, channel):
    answer = sdk.chat.completions.create(model=channel.model, messages=HELLO, user="u-1")
    assert answer.object == "chat.completion"
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].message.content == "Echo: Hello"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == channel.model
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == (11, 7, 18)
    assert answer.id.startswith("chatcmpl-")
    assert credits(channel) == 99
    assert [m["content"] for m in history(api, key, "u-1").json()["messages"]] == ["Hello", "Echo: Hello"]


def test_it_streams_chunks_then_the_usage_chunk(api, sdk, llm, key, channel):
    llm.reply = "one two three"
    stream = sdk.chat.completions.create(
        model=channel.model, messages=HELLO, stream=True, stream_options={"include_usage": True}, user="u-2"
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3
    assert credits(channel) == 99
    assert [m["content"] for m in history(api, key, "u-2").json()["messages"]] == ["Hello", "one two three"]


def test_a_stream_without_include_usage_has_no_usage_chunk(sdk, llm, channel):
    chunks = list(sdk.chat.completions.create(model=channel.model, messages=HELLO, stream=True))
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)


def test_the_async_client_answers_plain_and_streamed(api, gateway_server, llm, key, channel):
    async def run():
        async with openai.AsyncOpenAI(base_url=f"{gateway_server.url}/v1", api_key=key, max_retries=0) as client:
            plain = await client.chat.completions.create(model=channel.model, messages=[{"role": "user", "content": "A"}])
            stream = await client.chat.completions.create(
                model=channel.model, messages=[{"role": "user", "content": "B"}], stream=True
            )
            parts = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
            return plain.choices[0].message.content, "".join(parts)

    assert asyncio.run(run()) == ("Echo: A", "Echo: B")
    assert credits(channel) == 98


def test_the_model_may_be_left_to_the_channel_or_be_its_fallback(sdk, llm, channel):
    channel.fallback_model = "openai/gpt-oss-20b"
    channel.save()
    assert [m.id for m in sdk.models.list()] == [channel.model, "openai/gpt-oss-20b"]
    raw = sdk.chat.completions.with_raw_response.create(model="openai/gpt-oss-20b", messages=HELLO)
    assert raw.parse().model == "openai/gpt-oss-20b"
    assert [r["json"]["model"] for r in llm.requests] == ["openai/gpt-oss-20b"]  # that model alone


def test_the_fallback_takes_over_when_the_model_fails(sdk, llm, channel, settings):
    settings.LLM_MAX_RETRIES = 0
    channel.fallback_model = "openai/gpt-oss-20b"
    channel.save()
    llm.failing_models, llm.status = {channel.model}, 500
    answer = sdk.chat.completions.create(model=channel.model, messages=HELLO)
    assert (answer.model, answer.choices[0].message.content) == ("openai/gpt-oss-20b", "Echo: Hello")


def test_the_owners_prompt_comes_first_and_no_stored_history_is_added(sdk, llm, channel):
    channel.system_prompt = "You are the shop's assistant."
    channel.save()
    sdk.chat.completions.create(model=channel.model, messages=HELLO, user="u-3")
    conversation = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Echo: Hello"},
        {"role": "user", "content": [{"type": "text", "text": "And "}, {"type": "text", "text": "now?"}]},
    ]
    sdk.chat.completions.create(model=channel.model, messages=conversation, user="u-3")
    assert llm.requests[-1]["json"]["messages"] == [
        {"role": "system", "content": "You are the shop's assistant."},
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Echo: Hello"},
        {"role": "user", "content": "And now?"},
    ]
    stored = Message.objects.filter(session__session_id="u-3").order_by("id")
    assert [m.content for m in stored] == ["Hello", "Echo: Hello", "And now?", "Echo: And now?"]


def test_a_channel_can_refuse_client_system_messages(sdk, llm, channel):
    channel_update(channel=channel, client_system_messages=Channel.ClientSystemMessages.REFUSE)
    for role in ("system", "developer"):
        with pytest.raises(openai.BadRequestError) as caught:
            sdk.chat.completions.create(model=channel.model, messages=[{"role": role, "content": "x"}, *HELLO])
        assert caught.value.body["message"] == "This channel does not accept system messages from the client"
        assert caught.value.body["param"] == "messages[0].role"
    assert llm.requests == [] and credits(channel) == 100


def test_sampling_options_pass_through_and_max_tokens_is_capped(sdk, llm, channel):
    sdk.chat.completions.create(
        model=channel.model, messages=HELLO, temperature=0.2, top_p=0.9, stop=["END"], max_tokens=10**6
    )
    sent = llm.requests[-1]["json"]
    assert (sent["temperature"], sent["top_p"], sent["stop"]) == (0.2, 0.9, ["END"])
    # The answer's cap, plus the reasoning model's room to think (its max_tokens covers both).
    room = REASONING_ROOM["low"]
    assert sent["max_tokens"] == min(channel.max_reply_tokens, channel.catalog_model.output_reserve) + room
    sdk.chat.completions.create(model=channel.model, messages=HELLO, max_completion_tokens=50)
    assert llm.requests[-1]["json"]["max_tokens"] == 50 + room
    sdk.chat.completions.create(model=channel.model, messages=HELLO)
    assert not {"temperature", "top_p", "stop"} & set(llm.requests[-1]["json"])


def test_the_session_is_the_header_then_user_then_a_new_one(api, sdk, llm, key, channel):
    sdk.chat.completions.create(model=channel.model, messages=HELLO, user="ignored",
                                extra_headers={"X-Session-Id": "from-header"})
    assert len(history(api, key, "from-header").json()["messages"]) == 2
    assert history(api, key, "ignored").json()["messages"] == []
    raw = sdk.chat.completions.with_raw_response.create(model=channel.model, messages=HELLO)
    session = raw.headers["x-session-id"]
    assert session.startswith("v1-")
    assert [m["content"] for m in history(api, key, session).json()["messages"]] == ["Hello", "Echo: Hello"]


@pytest.mark.parametrize("user", ["\x1b[31m", "José", "tab\there"])
def test_a_session_named_by_a_user_no_header_can_carry_is_answered_without_naming_it(api, sdk, llm, key, channel, user):
    """Control characters in a header end the connection at the server, and the answer with it: the name is left out
    of the answer's headers, and the exchange is stored under it all the same."""
    raw = sdk.chat.completions.with_raw_response.create(model=channel.model, messages=HELLO, user=user)
    assert raw.parse().choices[0].message.content == "Echo: Hello"
    assert "x-session-id" not in raw.headers
    assert [m["content"] for m in history(api, key, user).json()["messages"]] == ["Hello", "Echo: Hello"]
    raw = sdk.responses.with_raw_response.create(model=channel.model, input="Again", user=user)
    assert raw.parse().output_text == "Echo: Again" and "x-session-id" not in raw.headers


@pytest.mark.parametrize("session", [b" ", b"x" * 256, b"caf\xe9", b"tab\tin"])
def test_an_x_session_id_that_is_not_printable_ascii_is_refused(api, llm, key, channel, session):
    r = api.post("/v1/chat/completions", json={"messages": HELLO},
                 headers={"Authorization": f"Bearer {key}", "X-Session-Id": session})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "X-Session-Id must be 1 to 255 printable ASCII characters"
    assert llm.requests == [] and credits(channel) == 100


def test_parallel_tool_calls_is_a_boolean_with_or_without_tools(sdk, llm, channel):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model=channel.model, messages=HELLO, extra_body={"parallel_tool_calls": []})
    assert caught.value.body["param"] == "parallel_tool_calls"
    assert sdk.chat.completions.create(model=channel.model, messages=HELLO, parallel_tool_calls=False).choices


def test_an_idempotency_key_replays_the_answer_once_paid(sdk, llm, channel):
    once = {"Idempotency-Key": "order-42"}
    first = sdk.chat.completions.create(model=channel.model, messages=HELLO, user="u-4", extra_headers=once)
    again = sdk.chat.completions.with_raw_response.create(model=channel.model, messages=HELLO, user="u-4", extra_headers=once)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.parse().choices[0].message.content == first.choices[0].message.content
    assert len(llm.requests) == 1 and credits(channel) == 99


# --- Each error class of the SDK ---


def test_a_missing_or_unknown_key_is_an_authentication_error(gateway_server, llm, key, channel):
    for wrong in ("not-a-key", "amgai_" + "x" * 40):
        with openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=wrong, max_retries=0) as client:
            with pytest.raises(openai.AuthenticationError) as caught:
                client.chat.completions.create(model=channel.model, messages=HELLO)
        assert caught.value.body == {"message": "Invalid API key", "type": "authentication_error",
                                     "code": "invalid_api_key", "param": None}
    api_key_revoke(api_key=ApiKey.objects.get(channel=channel))
    with openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=key, max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            client.models.list()
    assert llm.requests == []


def test_a_publishable_key_is_refused(gateway_server, widget_key, channel):
    with openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=widget_key, max_retries=0) as client:
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client.chat.completions.create(model=channel.model, messages=HELLO)
    assert caught.value.body["message"] == "This endpoint takes a secret key"


def test_an_inactive_channel_or_no_credits_is_permission_denied(sdk, llm, channel):
    channel_update(channel=channel, is_active=False)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        sdk.chat.completions.create(model=channel.model, messages=HELLO)
    assert (caught.value.body["message"], caught.value.body["code"]) == ("Site is inactive", "channel_inactive")
    channel_update(channel=channel, is_active=True)
    Channel.objects.filter(pk=channel.pk).update(credits=0)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        sdk.chat.completions.create(model=channel.model, messages=HELLO)
    assert caught.value.body["code"] == "insufficient_quota"
    assert caught.value.body["message"] == "This channel has no credits left. Ask the channel owner to top up its credits."
    assert llm.requests == []
    assert FailedRequest.objects.filter(channel=channel, endpoint="v1-chat", status=403).count() == 2


def test_a_model_the_channel_may_not_use_is_not_found(sdk, llm, channel):
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert caught.value.body["code"] == "model_not_found"
    assert caught.value.body["message"] == (
        f"The model does not exist or this channel may not use it: 'gpt-4o'. This channel may use: {channel.model} "
        "(GET /v1/models lists them)"
    )
    assert llm.requests == [] and credits(channel) == 100


def test_the_rate_limit_is_the_channels_with_retry_after(api, sdk, llm, key, channel):
    channel_update(channel=channel, rate_limit_per_minute=2)
    sdk.chat.completions.create(model=channel.model, messages=HELLO)
    assert chat(api, key).status_code == 200  # /api/chat and /v1 share the channel's minute
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.chat.completions.create(model=channel.model, messages=HELLO)
    assert 1 <= int(caught.value.response.headers["retry-after"]) <= 60
    assert caught.value.body["message"] == "Rate limit exceeded"
    assert credits(channel) == 98


@pytest.mark.parametrize(
    "extra, message, param",
    [
        ({"functions": [{"name": "f"}]}, "Unsupported field: functions", "functions"),
        ({"functions": None}, "Unsupported field: functions", "functions"),  # null is as if absent only for known fields
        ({"n": 2}, "n must be 1: one choice per request", "n"),
        ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "x"}}]}]},
         "Only text and image content parts are supported (messages[0].content[0])", "messages[0].content[0]"),
        ({"messages": [{"role": "function", "content": "x", "name": "f"}]},
         "messages[0].role must be system, developer, user, assistant or tool", "messages[0].role"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]},
         "The last message must be from the user", "messages[1].role"),
        ({"temperature": 3}, "temperature must be a number from 0 to 2", "temperature"),
        ({"messages": [{"role": "user", "content": "x" * 2001}]},
         "The last message must be at most 2000 characters", "messages[0].content"),
    ],
)
def test_unsupported_or_invalid_input_is_a_bad_request(sdk, llm, channel, extra, message, param):
    body = {"model": channel.model, "messages": HELLO, **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(**body)
    assert caught.value.body == {"message": message, "type": "invalid_request_error", "code": None, "param": param}
    assert llm.requests == [] and credits(channel) == 100


def test_a_provider_failure_is_an_internal_server_error_and_costs_nothing(sdk, llm, channel, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.mode, llm.status = "status", 500
    with pytest.raises(openai.InternalServerError) as caught:
        sdk.chat.completions.create(model=channel.model, messages=HELLO)
    assert caught.value.status_code == 500 and caught.value.body["message"] == "AI service error. Please try again."
    assert credits(channel) == 100


def test_a_stream_that_fails_after_it_opened_raises_an_api_error(sdk, llm, channel, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.mode = "stream_break"
    llm.reply = "one two three four"
    with pytest.raises(openai.APIError) as caught:
        list(sdk.chat.completions.create(model=channel.model, messages=HELLO, stream=True))
    assert caught.value.message == "AI service error. Please try again."
    assert credits(channel) == 100
    assert FailedRequest.objects.filter(channel=channel, endpoint="v1-chat", status=500).count() == 1


def test_unknown_v1_paths_are_404_in_openais_shape(api):
    r = api.get("/v1/embeddings")
    assert r.status_code == 404
    assert r.json() == {"error": {"message": "Not found", "type": "invalid_request_error", "code": None, "param": None}}


def test_an_oversized_body_is_413_in_openais_shape(api, sdk, llm, key, channel, settings):
    # /v1's own limit (V1_MAX_BODY_BYTES, 1 MiB: a client resends its whole conversation), not /api's 64 KiB.
    long_ago = [{"role": "user", "content": "x" * settings.V1_MAX_BODY_BYTES}, {"role": "assistant", "content": "ok"}]
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.chat.completions.create(model=channel.model, messages=[*long_ago, *HELLO])
    assert caught.value.status_code == 413
    assert caught.value.body["message"] == "Request body is too large (at most 1048576 bytes)"
    # Past the edge's cap the answer comes before Django reads the body: the same shape.
    r = api.post("/v1/chat/completions", content=b"x" * (settings.REQUEST_MAX_BODY_BYTES + 1),
                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"
    assert llm.requests == [] and credits(channel) == 100


def test_without_a_model_the_channels_own_answers_and_nulls_are_as_absent(api, llm, key, channel):
    body = {"messages": HELLO, "temperature": None, "tools": None, "stream": None, "user": "raw-1"}
    r = api.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    assert (r.json()["model"], r.headers["x-session-id"]) == (channel.model, "raw-1")
    assert llm.requests[-1]["json"]["model"] == channel.model and "temperature" not in llm.requests[-1]["json"]


def test_a_key_in_x_api_key_alone_is_not_enough_for_v1(api, llm, key, channel):
    r = api.post("/v1/chat/completions", json={"messages": HELLO}, headers={"X-API-Key": key})
    assert r.status_code == 401
    assert r.json()["error"] == {"message": "Missing API key", "type": "authentication_error",
                                 "code": "missing_api_key", "param": None}
    assert llm.requests == []
