"""Reasoning models: the visitor and the history get the answer only; the reasoning is paid for, never shown.

Through the real stack: the gateway on loopback, the fake provider answering
as Groq's gpt-oss does (`reasoning` beside the content, `delta.reasoning` in a
stream, usage with completion_tokens_details.reasoning_tokens) or with inline
`<think>` blocks, the official OpenAI client for /v1.
"""

from decimal import Decimal

import openai
import pytest

from channels_app.providers import catalog, reasoning
from channels_app.providers.catalog import REASONING_ROOM
from channels_app.providers.catalog_models import AiModel
from conversations.models import Message
from gateway.infra.errors import NoAnswerError
from gateway.testing.api import chat, chat_stream, credits, history

SECRET = "SECRET-PLAN the user wants a greeting so I will greet them"
NO_ANSWER = {"error": NoAnswerError.message}
THOUGHT = len(SECRET.split())  # the fake provider's reasoning tokens: one per word


def _leaks(text: str) -> bool:
    return "SECRET" in text or "think>" in text or "greet them" in text


@pytest.mark.parametrize("content, answer, thought", [
    ("<think>a plan</think>\n\nHello there", "Hello there", "a plan"),
    ("Hello <think>aside</think> there", "Hello there", "aside"),
    ("<think>never closed, all reasoning", "", "never closed, all reasoning"),
    ("no tags at all, 2 < 3 and <b>bold</b>", "no tags at all, 2 < 3 and <b>bold</b>", ""),
    ("<thin>not a tag</thin>", "<thin>not a tag</thin>", ""),
])
def test_inline_think_blocks_are_taken_out_however_the_content_is_split(content, answer, thought):
    assert reasoning.split(content) == (answer, thought)
    for size in range(1, len(content) + 1):  # every way a stream may cut the tags
        think = reasoning.ThinkFilter()
        shown = "".join(think.feed(content[i:i + size]) for i in range(0, len(content), size)) + think.finish()
        assert (shown, "".join(think.thought)) == (answer, thought), size


def test_a_gpt_oss_answer_reaches_the_visitor_and_the_history_without_its_reasoning(api, llm, channel, key):
    llm.reasoning = SECRET
    r = chat(api, key, "Hi")
    assert (r.status_code, r.json()["reply"]) == (200, "Echo: Hi")
    sent = llm.requests[-1]["json"]
    assert (sent["model"], sent["reasoning_effort"]) == ("openai/gpt-oss-120b", "low")
    assert sent["max_tokens"] == channel.max_reply_tokens + REASONING_ROOM["low"]
    reply = Message.objects.get(role="assistant")
    assert reply.content == "Echo: Hi" and not _leaks(history(api, key).text)
    # The reasoning tokens are in the usage (7 of the answer + 11 of reasoning) and in the cost, at the output price.
    assert (reply.prompt_tokens, reply.completion_tokens, reply.tokens_estimated) == (11, 7 + THOUGHT, False)
    assert reply.cost == (11 * Decimal("0.15") + 18 * Decimal("0.60")) / 1_000_000


def test_a_streamed_gpt_oss_answer_sends_no_reasoning_delta(api, llm, channel, key):
    llm.reasoning = SECRET
    r, events = chat_stream(api, key, "Hi there")
    tokens = [data["delta"] for name, data in events if name == "token"]
    assert "".join(tokens) == "Echo: Hi there" and not any(_leaks(t) for t in tokens)
    assert events[-1] == ("done", {"reply": "Echo: Hi there", "session_id": "s-1", "sources": []})
    reply = Message.objects.get(role="assistant")
    assert reply.content == "Echo: Hi there"
    assert reply.completion_tokens == 3 + THOUGHT  # from x_groq.usage: the three answer chunks and the reasoning


def test_an_inline_think_block_split_across_deltas_never_reaches_the_stream(api, llm, channel, key):
    llm.reasoning, llm.think_inline, llm.chunk_chars = SECRET, True, 3  # "<think>" arrives as "<th", "ink", ">SE"…
    r, events = chat_stream(api, key, "Hi")
    tokens = [data["delta"] for name, data in events if name == "token"]
    assert "".join(tokens) == "Echo: Hi" and not any(_leaks(t) for t in tokens) and "<" not in "".join(tokens)
    assert Message.objects.get(role="assistant").content == "Echo: Hi"
    # Plain too.
    r = chat(api, key, "Again", session_id="s-2")
    assert r.json()["reply"] == "Echo: Again"


def test_v1_gives_the_answer_as_content_and_counts_the_reasoning_tokens(sdk, llm, channel):
    llm.reasoning = SECRET
    answer = sdk.chat.completions.create(model=channel.model, messages=[{"role": "user", "content": "Hello"}])
    assert answer.choices[0].message.content == "Echo: Hello"
    assert not _leaks(answer.model_dump_json())
    assert answer.usage.completion_tokens == 7 + THOUGHT
    assert answer.usage.completion_tokens_details.reasoning_tokens == THOUGHT
    stream = sdk.chat.completions.create(
        model=channel.model, messages=[{"role": "user", "content": "Hello"}], stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: Hello" and not any(_leaks(c.model_dump_json()) for c in chunks)
    assert chunks[-1].usage.completion_tokens_details.reasoning_tokens == THOUGHT


def test_an_answer_cut_to_nothing_by_the_length_cap_is_a_clear_error_and_costs_nothing(api, sdk, llm, channel, key):
    llm.reasoning, llm.answer_empty = SECRET, True
    before = credits(channel)
    r = chat(api, key, "Explain everything")
    assert (r.status_code, r.json()) == (500, NO_ANSWER)
    r, events = chat_stream(api, key, "Explain everything")
    assert events[-1] == ("error", NO_ANSWER) and not [e for e in events if e[0] == "token"]
    with pytest.raises(openai.InternalServerError) as raised:
        sdk.chat.completions.create(model=channel.model, messages=[{"role": "user", "content": "Explain"}])
    assert raised.value.body["code"] == "no_answer" and raised.value.body["message"] == NoAnswerError.message
    assert credits(channel) == before and not Message.objects.exists()


def test_the_effort_is_the_models_and_goes_to_reasoning_models_only(staff_web, api, llm, channel, key):
    AiModel.objects.filter(slug="openai/gpt-oss-120b").update(reasoning_effort="high")
    catalog.forget()
    chat(api, key, "Think hard")
    sent = llm.requests[-1]["json"]
    assert sent["reasoning_effort"] == "high" and sent["max_tokens"] == 1024 + REASONING_ROOM["high"]
    # A model that does not reason is sent neither the parameter nor the extra room.
    AiModel.objects.filter(slug="llama-3.3-70b-versatile").update(status="active", replacement=None)
    channel.model = "llama-3.3-70b-versatile"
    channel.save()
    catalog.forget()
    chat(api, key, "Plain", session_id="s-2")
    sent = llm.requests[-1]["json"]
    assert "reasoning_effort" not in sent and sent["max_tokens"] == 1024
