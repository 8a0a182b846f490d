"""A failing provider: the contract's 500, nothing stored, nothing spent, the cause logged without the upstream key."""

import logging

import pytest

from conversations.engine import limits
from conversations.models import Message
from gateway.testing.api import UPSTREAM_KEY, chat

AI_ERROR = {"error": "AI service error. Please try again."}


def assert_nothing_changed(channel):
    channel.refresh_from_db()
    assert channel.credits == 100
    assert not Message.objects.exists()
    assert limits.daily_used(channel) == 0


@pytest.mark.parametrize("status", [500, 502, 503, 429, 401, 400, 404])
def test_it_answers_500_when_the_provider_answers_an_error_status(api, llm, channel, key, status, caplog):
    llm.mode, llm.status = "status", status
    with caplog.at_level(logging.WARNING):
        r = chat(api, key)
    assert (r.status_code, r.json()) == (500, AI_ERROR)
    assert_nothing_changed(channel)
    assert f"HTTP {status}" in caplog.text
    assert UPSTREAM_KEY not in caplog.text


@pytest.mark.parametrize("mode", ["malformed", "no_choices", "reset"])
def test_it_answers_500_for_a_broken_provider_response(api, llm, channel, key, mode):
    llm.mode = mode
    r = chat(api, key)
    assert (r.status_code, r.json()) == (500, AI_ERROR)
    assert_nothing_changed(channel)


def test_it_answers_500_for_an_empty_reply(api, llm, channel, key):
    llm.reply = "  "
    assert chat(api, key).json() == AI_ERROR
    assert_nothing_changed(channel)


def test_it_answers_500_when_the_provider_cannot_be_reached(api, llm, channel, key, settings, caplog):
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"
    with caplog.at_level(logging.WARNING):
        r = chat(api, key)
    assert (r.status_code, r.json()) == (500, AI_ERROR)
    assert_nothing_changed(channel)
    assert "ConnectError" in caplog.text
    assert UPSTREAM_KEY not in caplog.text


def test_it_gives_up_at_the_deadline_when_the_provider_hangs(api, llm, channel, key, settings):
    llm.mode = "hang"
    settings.LLM_TOTAL_TIMEOUT = 0.5
    r = chat(api, key)
    assert (r.status_code, r.json()) == (500, AI_ERROR)
    assert_nothing_changed(channel)


def test_it_never_echoes_the_upstream_error_or_key_to_the_client(api, llm, channel, key):
    llm.mode, llm.status = "status", 500
    r = chat(api, key)
    assert "upstream says no" not in r.text
    assert UPSTREAM_KEY not in r.text


def test_a_failure_after_success_keeps_the_earlier_exchange(api, llm, channel, key):
    chat(api, key, "kept")
    llm.mode, llm.status = "status", 503
    chat(api, key, "lost")
    assert list(Message.objects.values_list("content", flat=True)) == ["kept", "Echo: kept"]
    channel.refresh_from_db()
    assert channel.credits == 99


def test_a_provider_that_trickles_its_answer_is_cut_off_at_the_deadline(api, llm, channel, key, settings):
    # Each byte arrives well inside the read timeout, so only the overall deadline can end it;
    # left alone the answer would complete (and succeed) after tens of seconds.
    llm.mode = "trickle"
    settings.LLM_TOTAL_TIMEOUT, settings.LLM_READ_TIMEOUT = 1, 5
    r = chat(api, key)
    assert (r.status_code, r.json()) == (500, AI_ERROR)
    assert len(llm.requests) == 1  # not retried: the provider may have done the work
    assert_nothing_changed(channel)
