"""Retries with backoff inside the deadline, Retry-After, and the circuit breaker, against a faulty provider on loopback."""

import asyncio
import json
import re

import pytest

from channels_app.providers import resilience
from conversations.models import Message
from gateway.testing.api import chat, chat_stream
from gateway.testing.waiting import wait_until

AI_ERROR = {"error": "AI service error. Please try again."}


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_it_retries_transient_statuses_and_charges_once(api, llm, channel, key, status):
    llm.fail_first, llm.status = 2, status
    r = chat(api, key, "persist")
    assert (r.status_code, r.json()["reply"]) == (200, "Echo: persist")
    assert len(llm.requests) == 3
    channel.refresh_from_db()
    assert channel.credits == 99
    assert Message.objects.count() == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_it_does_not_retry_other_client_errors(api, llm, key, status):
    llm.fail_first, llm.status = 1, status
    assert chat(api, key).json() == AI_ERROR
    assert len(llm.requests) == 1


def test_it_gives_up_after_the_retry_budget(api, llm, channel, key, settings):
    settings.LLM_MAX_RETRIES = 2
    llm.fail_first, llm.status = 10, 503
    assert chat(api, key).json() == AI_ERROR
    assert len(llm.requests) == 3
    channel.refresh_from_db()
    assert channel.credits == 100


def test_it_does_not_retry_a_read_timeout(api, llm, key, settings):
    llm.mode = "hang"
    settings.LLM_READ_TIMEOUT = 0.3
    assert chat(api, key).json() == AI_ERROR
    assert len(llm.requests) == 1


def test_it_does_not_retry_a_malformed_answer(api, llm, key):
    llm.mode = "malformed"
    assert chat(api, key).json() == AI_ERROR
    assert len(llm.requests) == 1


def test_it_honours_retry_after(api, llm, key):
    llm.fail_first, llm.status, llm.retry_after = 1, 429, "1"
    assert chat(api, key).status_code == 200
    first, second = llm.requests
    assert second["at"] - first["at"] >= 0.95


def test_a_retry_after_beyond_the_deadline_fails_at_once(api, llm, key, settings):
    settings.LLM_TOTAL_TIMEOUT = 2
    llm.fail_first, llm.status, llm.retry_after = 1, 503, "5"
    assert chat(api, key).json() == AI_ERROR
    assert len(llm.requests) == 1  # no retry that could not finish in time


def test_retry_after_is_capped(settings):
    import httpx

    settings.LLM_RETRY_AFTER_CAP = 3
    response = httpx.Response(429, headers={"Retry-After": "3600"})
    assert resilience.backoff(0, response) == 3
    http_date = httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert resilience.backoff(0, http_date) == 0  # a date in the past: go now


def test_backoff_is_jittered_and_capped(settings):
    settings.LLM_RETRY_BACKOFF_BASE, settings.LLM_RETRY_BACKOFF_CAP = 0.25, 4
    delays = [resilience.backoff(10) for _ in range(200)]
    assert all(0 <= d <= 4 for d in delays)
    assert len(set(delays)) > 100


def test_streams_retry_before_the_first_token(api, llm, key):
    llm.fail_first, llm.status = 1, 502
    r, events = chat_stream(api, key, "again")
    assert events[-1] == ("done", {"reply": "Echo: again", "session_id": "s-1", "sources": []})
    assert len(llm.requests) == 2


def test_the_breaker_opens_after_repeated_failures_and_fails_fast(api, llm, channel, key, settings):
    settings.LLM_BREAKER_THRESHOLD, settings.LLM_MAX_RETRIES = 3, 0
    llm.mode, llm.status = "status", 503
    for _ in range(3):
        assert chat(api, key).json() == AI_ERROR
    assert len(llm.requests) == 3
    assert resilience.breaker_for(settings.LLM_BASE_URL, channel.model).state == "open"
    llm.mode = "ok"  # even a recovered provider is not called while the breaker is open
    assert chat(api, key).json() == AI_ERROR
    assert len(llm.requests) == 3
    channel.refresh_from_db()
    assert channel.credits == 100


def test_the_breaker_recovers_by_itself_after_the_cooldown(api, llm, channel, key, settings):
    settings.LLM_BREAKER_THRESHOLD, settings.LLM_MAX_RETRIES, settings.LLM_BREAKER_COOLDOWN = 2, 0, 0.5
    llm.mode, llm.status = "status", 500
    chat(api, key)
    chat(api, key)
    assert resilience.breaker_for(settings.LLM_BASE_URL, channel.model).state == "open"
    assert wait_until(lambda: resilience.breaker_for(settings.LLM_BASE_URL, channel.model).state == "half-open")
    llm.mode = "ok"
    assert chat(api, key).status_code == 200  # the probe goes through and closes the breaker
    assert resilience.breaker_for(settings.LLM_BASE_URL, channel.model).state == "closed"
    assert chat(api, key).status_code == 200


def test_a_failed_probe_reopens_the_breaker(api, llm, channel, key, settings):
    settings.LLM_BREAKER_THRESHOLD, settings.LLM_MAX_RETRIES, settings.LLM_BREAKER_COOLDOWN = 1, 0, 0.3
    llm.mode, llm.status = "status", 500
    chat(api, key)
    assert wait_until(lambda: resilience.breaker_for(settings.LLM_BASE_URL, channel.model).state == "half-open")
    chat(api, key)  # the probe fails
    assert resilience.breaker_for(settings.LLM_BASE_URL, channel.model).state == "open"
    assert len(llm.requests) == 2


def test_each_upstream_has_its_own_breaker(api, llm, channel, key, settings):
    settings.LLM_BREAKER_THRESHOLD, settings.LLM_MAX_RETRIES = 1, 0
    dead = "http://127.0.0.1:9/v1"
    resilience.breaker_for(dead, channel.model).failed()
    assert resilience.breaker_for(dead, channel.model).state == "open"
    assert chat(api, key).status_code == 200  # the fake provider's breaker is still closed


class ClosingUpstream:
    """An OpenAI-compatible provider on loopback that reads the first request, then closes its connection without
    answering (a keep-alive connection the provider was closing as the gateway reused it), and answers later ones."""

    def __init__(self):
        import threading

        self.requests = 0
        self.loop = asyncio.new_event_loop()
        self.server = self.loop.run_until_complete(asyncio.start_server(self.serve, "127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
                await reader.readexactly(length)
                self.requests += 1
                if self.requests == 1:
                    return  # read, never answered: the connection closes below
                body = json.dumps({
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "m",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Answered on a new connection"},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
                }).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_a_connection_the_provider_closes_before_answering_is_retried_and_charged_once(api, channel, key, settings):
    upstream = ClosingUpstream()
    try:
        settings.LLM_BASE_URL, settings.LLM_API_KEY = upstream.url, "upstream-key"
        settings.LLM_RETRY_BACKOFF_BASE = 0.01
        resilience.reset_breakers()
        r = chat(api, key, "hello")
        assert (r.status_code, r.json()["reply"]) == (200, "Answered on a new connection")
        assert upstream.requests == 2
        channel.refresh_from_db()
        assert channel.credits == 99
        assert Message.objects.count() == 2
    finally:
        upstream.stop()
