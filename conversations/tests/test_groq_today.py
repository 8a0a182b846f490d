"""The issue's end-to-end check: a channel made with the defaults, against an upstream behaving like Groq today.

The upstream (the fake provider on loopback) answers every retired id with
Groq's 404 `model_not_found` and answers gpt-oss with reasoning beside the
answer. Every chat must get a non-empty reply that holds no reasoning, on
/api/chat (plain and streamed) and /v1 (the official OpenAI client, plain and
streamed); a channel still set to any of the seed's ids answers through its
replacement; `models sync` flags a model the provider dropped.
"""

import io

import openai
import pytest
from django.core.management import call_command

from channels_app import key_cache
from channels_app.models import Channel
from channels_app.providers import catalog, catalog_seed
from channels_app.providers.catalog_models import AiModel
from conversations.models import Message
from gateway.testing.api import chat, chat_stream

REASONING = "SECRET-THOUGHT the visitor greets me so I should greet back briefly"


@pytest.fixture
def groq_today(llm):
    llm.gone_models = set(catalog_seed.RETIRED)  # every id Groq decommissioned answers 404 model_not_found
    llm.reasoning = REASONING
    llm.listed_models = ["openai/gpt-oss-120b", "openai/gpt-oss-20b", "qwen/qwen3.6-27b"]
    return llm


def _clean(text: str) -> bool:
    return bool(text.strip()) and "SECRET" not in text and "greet back" not in text and "think>" not in text


def _every_surface(api, sdk, key, model: str, session: str) -> list[str]:
    """One chat on each surface; the replies."""
    replies = [chat(api, key, "Hello", session_id=f"{session}-plain").json()["reply"]]
    r, events = chat_stream(api, key, "Hello", session_id=f"{session}-stream")
    tokens = [data["delta"] for name, data in events if name == "token"]
    assert all(_clean(t) or not t.strip() for t in tokens) and events[-1][0] == "done", events
    replies.append(events[-1][1]["reply"])
    answer = sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello"}])
    replies.append(answer.choices[0].message.content)
    chunks = list(sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello"}], stream=True))
    replies.append("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))
    return replies


def test_a_default_channel_answers_every_chat_without_reasoning_and_old_ids_go_to_their_replacement(
    api, sdk, groq_today, channel, key
):
    assert channel.model == "openai/gpt-oss-120b"  # made with the defaults
    replies = _every_surface(api, sdk, key, channel.model, "default")
    assert replies == ["Echo: Hello"] * 4, replies
    assert all(_clean(reply) for reply in replies)
    assert all(_clean(m.content) for m in Message.objects.all()) and Message.objects.filter(role="assistant").count() == 4
    assert {r["json"]["model"] for r in groq_today.requests} == {"openai/gpt-oss-120b"}

    for number, (old, replacement) in enumerate(catalog_seed.RETIRED.items()):
        # A channel still naming the old id (set behind the application's back: nothing moved it).
        Channel.objects.filter(pk=channel.pk).update(model=old, fallback_model="")
        catalog.forget()
        key_cache.invalidate()  # a raw update sends no signal: the cached key still carries the channel as it was
        before = len(groq_today.requests)
        replies = _every_surface(api, sdk, key, old, f"old-{number}")
        assert replies == ["Echo: Hello"] * 4, (old, replies)
        assert {r["json"]["model"] for r in groq_today.requests[before:]} == {replacement}, old
    # Groq was never asked for a retired id, so it never had to say 404.
    assert not set(catalog_seed.RETIRED) & {r["json"]["model"] for r in groq_today.requests if r["json"]}


def test_the_404_of_a_retired_id_is_what_groq_answers_and_flags_the_model(api, groq_today, channel, key):
    # Should a catalog still serve a retired id as active (an install that skipped the migration), Groq's 404
    # fails the chat with nothing spent and flags the model for staff.
    AiModel.objects.filter(slug="llama-3.3-70b-versatile").update(status="active", replacement=None)
    Channel.objects.filter(pk=channel.pk).update(model="llama-3.3-70b-versatile")
    catalog.forget()
    key_cache.invalidate()
    r = chat(api, key, "Hello")
    assert r.status_code == 500 and Channel.objects.get(pk=channel.pk).credits == 100
    assert "does not exist" in AiModel.objects.get(slug="llama-3.3-70b-versatile").attention


def test_models_sync_flags_a_model_the_provider_dropped(db, groq_today):
    groq_today.listed_models = ["openai/gpt-oss-120b", "qwen/qwen3.6-27b"]
    out = io.StringIO()
    call_command("models", "sync", stdout=out)
    assert "NO LONGER LISTED: openai/gpt-oss-20b" in out.getvalue()
    assert AiModel.objects.get(slug="openai/gpt-oss-20b").attention


def test_v1_clients_naming_an_old_id_reach_the_model_that_replaced_it_on_their_channel(sdk, groq_today, channel):
    # The channel was moved to gpt-oss-120b (its default); a client written for llama-3.3-70b-versatile keeps working.
    answer = sdk.chat.completions.create(model="llama-3.3-70b-versatile", messages=[{"role": "user", "content": "Hi"}])
    assert (answer.model, answer.choices[0].message.content) == ("openai/gpt-oss-120b", "Echo: Hi")
    assert groq_today.requests[-1]["json"]["model"] == "openai/gpt-oss-120b"
    # An old id whose replacement this channel does not use stays refused, as any model it may not use.
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="gemma2-9b-it", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
