"""Every recorded upstream format, replayed byte for byte on loopback: text, tokens, cost and errors as stored.

The recordings (gateway/testing/provider_traffic/, each with its public
source) are real Groq, OpenAI, llama.cpp and LiteLLM answers. A chat goes
through the real gateway over HTTP; what the test reads back is the stored
message and what the gateway sent upstream.
"""

from decimal import Decimal

import pytest

from channels_app.providers import catalog, tokens
from channels_app.providers.catalog import REASONING_ROOM
from channels_app.providers.catalog_models import AiModel
from conversations.models import Message
from gateway.testing.api import UPSTREAM_KEY, chat, chat_stream

AI_ERROR = "AI service error. Please try again."
GROQ_JSON = '```json { "sentiment": "positive"}```'
OLA_LONG = 'Hi! In Portuguese, you say "Olá!"'
GPT_OSS_HELLO = "Hello! \U0001F44B How can I help you today?"


@pytest.fixture
def upstream(recorded_llm_server, settings):
    from channels_app.providers.resilience import reset_breakers

    recorded_server = recorded_llm_server
    recorded_server.app.reset()
    reset_breakers()
    settings.LLM_BASE_URL = f"{recorded_server.url}/v1"
    settings.LLM_API_KEY = UPSTREAM_KEY
    settings.LLM_RETRY_BACKOFF_BASE = 0.01
    settings.LLM_RETRY_AFTER_CAP = 0.05  # Groq's retry-after: 2 is honoured, capped for the test's sake
    return recorded_server.app


def _reply(api, key, stream: bool) -> str:
    if not stream:
        r = chat(api, key, "Hello in Portuguese?")
        assert r.status_code == 200, r.text
        return r.json()["reply"]
    r, events = chat_stream(api, key, "Hello in Portuguese?")
    assert r.status_code == 200 and events[-1][0] == "done", r.text
    return events[-1][1]["reply"]


# fixture, streamed, reply text, (prompt, completion) tokens as the provider reported them (None: it sent none)
CASES = [
    ("groq_chat", False, "Olá!", (20, 4)),
    ("openai_chat", False, "Olá!", (20, 2)),
    ("llamacpp_chat", False, "Olá!", (84, 49)),  # its reasoning_content is not the reply
    ("groq_stream", True, GROQ_JSON, (244, 15)),  # x_groq.usage only
    ("groq_stream_include_usage", True, "Olá!", (20, 4)),  # the same usage twice: counted once
    ("openai_stream_usage", True, "Oi!", (20, 2)),  # the last chunk, with no choices
    ("openai_stream_no_usage", True, OLA_LONG, None),
    ("stream_usage_null", True, OLA_LONG, None),  # "usage": null on every chunk and no usage chunk
    # gpt-oss: the answer only, never its `reasoning` / `delta.reasoning`; the 88 completion tokens include the reasoning.
    ("groq_gpt_oss_chat", False, GPT_OSS_HELLO, (72, 88)),
    ("groq_gpt_oss_stream", True, GPT_OSS_HELLO, (72, 88)),
]


@pytest.mark.parametrize("name, stream, text, usage", CASES, ids=[c[0] for c in CASES])
def test_every_recorded_format_is_stored_with_its_tokens_and_cost(api, upstream, key, channel, name, stream, text, usage):
    upstream.play(name)
    assert _reply(api, key, stream) == text
    sent = upstream.requests[-1]["json"]
    assert sent["stream"] is stream
    # Asked on every stream, whatever the provider (OpenAI, LiteLLM and vLLM send usage only then); never otherwise.
    assert sent.get("stream_options") == ({"include_usage": True} if stream else None)
    reply = Message.objects.get(role="assistant")
    assert reply.content == text
    if usage is not None:
        assert (reply.prompt_tokens, reply.completion_tokens, reply.tokens_estimated) == (*usage, False)
    else:  # counted here with a real tokenizer, and marked as such: never NULL
        assert reply.tokens_estimated is True
        assert reply.prompt_tokens == tokens.count_messages(sent["messages"])
        assert reply.completion_tokens == tokens.count(text) == 11
    model = AiModel.objects.get(slug=channel.model)
    expected = (reply.prompt_tokens * model.input_price + reply.completion_tokens * model.output_price) / 1_000_000
    assert reply.cost == expected.quantize(Decimal("1e-10")) and reply.cost > 0
    assert reply.model == channel.model  # the catalog's id, whatever the provider calls it


@pytest.mark.parametrize(
    "name", ["groq_400_model_decommissioned", "groq_404_model_not_found", "openai_404_model_not_found",
             "litellm_400_invalid_model"]
)
def test_a_model_the_provider_says_is_gone_is_flagged_for_staff_and_the_fallback_answers(
    api, upstream, key, channel, mailbox, settings, name
):
    settings.ADMINS = [("Ops", "ops@example.com")]
    channel.fallback_model = "openai/gpt-oss-20b"
    channel.save()
    upstream.play(name, "groq_chat")
    r = chat(api, key, "Hi")
    assert (r.status_code, r.json()["reply"]) == (200, "Olá!")
    assert [req["json"]["model"] for req in upstream.requests] == [channel.model, "openai/gpt-oss-20b"]  # not retried
    flagged = AiModel.objects.get(slug=channel.model)
    assert flagged.attention and flagged.attention_at is not None
    assert AiModel.objects.get(slug="openai/gpt-oss-20b").attention == ""
    mail = mailbox.wait_for("ops@example.com")[0]
    assert channel.model in mail["subject"]
    # Flagged once, not on every chat: the next failure within the hour sends nothing more.
    upstream.play(name, "groq_chat")
    assert chat(api, key, "Again").status_code == 200
    assert len(mailbox.to("ops@example.com")) == 1


def test_without_a_fallback_a_gone_model_answers_the_contracts_error_and_keeps_the_credit(api, upstream, key, channel):
    upstream.play("groq_400_model_decommissioned")
    r = chat(api, key, "Hi")
    assert (r.status_code, r.json()) == (500, {"error": AI_ERROR})
    channel.refresh_from_db()
    assert channel.credits == 100 and not Message.objects.exists()
    assert AiModel.objects.get(slug=channel.model).attention


def test_413_is_refused_at_once_and_flags_nothing(api, upstream, key, channel):
    upstream.play("groq_413")
    r = chat(api, key, "Hi")
    assert (r.status_code, r.json()) == (500, {"error": AI_ERROR})
    assert len(upstream.requests) == 1  # a request too large stays too large: no retry
    assert AiModel.objects.get(slug=channel.model).attention == ""
    # And what is sent is the channel's reply length (with a reasoning model's room to think), not a fixed number
    # a small tier counts against its minute.
    assert upstream.requests[0]["json"]["max_tokens"] == channel.max_reply_tokens + REASONING_ROOM["low"] == 3072


def test_429_is_retried_after_its_retry_after_then_answers(api, upstream, key, channel):
    upstream.play("groq_429", "groq_chat")
    r = chat(api, key, "Hi")
    assert (r.status_code, r.json()["reply"]) == (200, "Olá!")
    assert len(upstream.requests) == 2
    assert AiModel.objects.get(slug=channel.model).attention == ""


def test_the_catalog_prices_are_what_the_cost_uses(api, upstream, key, channel):
    AiModel.objects.filter(slug=channel.model).update(input_price=Decimal("100"), output_price=Decimal("200"))
    catalog.forget()  # .update() sends no signal; the admin and the services save, which does
    upstream.play("groq_chat")
    chat(api, key, "Hi")
    assert Message.objects.get(role="assistant").cost == Decimal("0.0028")  # (20 × $100 + 4 × $200) / 1M
