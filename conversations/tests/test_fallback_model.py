"""A channel's optional fallback model takes over when its model fails."""

import pytest
from django.core.exceptions import ValidationError

from channels_app.providers import catalog
from channels_app.providers.catalog_models import AiModel
from channels_app.services import channel_create
from conversations.models import Message
from gateway.testing.api import chat, chat_stream

AI_ERROR = {"error": "AI service error. Please try again."}


@pytest.fixture
def with_fallback(channel):
    # Two plain (non-reasoning) models of different output reserves: the seed's old ids, live again here.
    AiModel.objects.filter(slug__in=["llama-3.3-70b-versatile", "gemma2-9b-it"]).update(status="active", replacement=None)
    catalog.forget()
    channel.model, channel.fallback_model = "llama-3.3-70b-versatile", "gemma2-9b-it"
    channel.max_reply_tokens = 4000
    channel.save()
    return channel


def test_the_fallback_answers_when_the_model_fails(api, llm, with_fallback, key, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.failing_models, llm.status = {"llama-3.3-70b-versatile"}, 404
    r = chat(api, key, "Anyone there?")
    assert (r.status_code, r.json()["reply"]) == (200, "Echo: Anyone there?")
    first, second = (req["json"] for req in llm.requests)
    assert (first["model"], second["model"]) == ("llama-3.3-70b-versatile", "gemma2-9b-it")
    # The channel's reply length for the model; for the fallback, bounded by its own output reserve.
    assert (first["max_tokens"], second["max_tokens"]) == (4000, 2048)
    assert Message.objects.get(role="assistant").model == "gemma2-9b-it"
    with_fallback.refresh_from_db()
    assert with_fallback.credits == 99


def test_the_fallback_is_not_called_when_the_model_answers(api, llm, with_fallback, key):
    assert chat(api, key).status_code == 200
    assert [r["json"]["model"] for r in llm.requests] == ["llama-3.3-70b-versatile"]


def test_when_both_fail_nothing_is_charged(api, llm, with_fallback, key, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.failing_models, llm.status = {"llama-3.3-70b-versatile", "gemma2-9b-it"}, 500
    assert chat(api, key).json() == AI_ERROR
    assert len(llm.requests) == 2
    with_fallback.refresh_from_db()
    assert with_fallback.credits == 100
    assert not Message.objects.exists()


def test_without_a_fallback_a_failure_is_final(api, llm, channel, key, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.failing_models, llm.status = {channel.model}, 404
    assert chat(api, key).json() == AI_ERROR
    assert len(llm.requests) == 1


def test_a_stream_falls_back_before_its_first_token(api, llm, with_fallback, key, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.failing_models, llm.status = {"llama-3.3-70b-versatile"}, 503
    r, events = chat_stream(api, key, "stream please")
    assert events[-1] == ("done", {"reply": "Echo: stream please", "session_id": "s-1", "sources": []})
    assert Message.objects.get(role="assistant").content == "Echo: stream please"


def test_a_stream_that_broke_after_tokens_does_not_fall_back(api, llm, with_fallback, key):
    llm.mode = "stream_break"
    r, events = chat_stream(api, key, "one two three four")
    assert events[-1] == ("error", AI_ERROR)
    assert len(llm.requests) == 1


def test_the_fallback_must_differ_from_the_model(db, owner):
    with pytest.raises(ValidationError, match="must differ"):
        channel_create(owner=owner, name="X", model="openai/gpt-oss-20b", fallback_model="openai/gpt-oss-20b")
