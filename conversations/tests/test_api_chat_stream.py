"""POST /api/chat with streaming, through real HTTP, against a streaming OpenAI-compatible server on loopback."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conversations.engine import limits
from conversations.models import Message
from gateway.testing import loopback
from gateway.testing.api import chat_stream, history, parse_sse
from gateway.testing.waiting import wait_until

AI_ERROR = {"error": "AI service error. Please try again."}


def test_it_streams_tokens_in_order_then_done(api, llm, key):
    r, events = chat_stream(api, key, "one two three", session_id="st")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-accel-buffering"] == "no"
    tokens = [data["delta"] for kind, data in events if kind == "token"]
    assert tokens == ["Echo:", " one", " two", " three"]
    assert events[-1] == ("done", {"reply": "Echo: one two three", "session_id": "st", "sources": []})
    assert llm.requests[-1]["json"]["stream"] is True


def test_the_full_reply_is_stored_once_when_the_stream_completes(api, llm, key, channel):
    chat_stream(api, key, "store me", session_id="st")
    assert list(Message.objects.values_list("role", "content")) == [("user", "store me"), ("assistant", "Echo: store me")]
    reply = Message.objects.get(role="assistant")
    assert (reply.prompt_tokens, reply.completion_tokens) == (11, 3)
    channel.refresh_from_db()
    assert channel.credits == 99
    assert [m["content"] for m in history(api, key, "st").json()["messages"]] == ["store me", "Echo: store me"]


def test_accept_event_stream_also_streams(api, llm, key):
    r = api.post("/api/chat", json={"message": "hi", "session_id": "a"}, headers={"X-API-Key": key, "Accept": "text/event-stream"})
    assert r.headers["content-type"].startswith("text/event-stream")
    assert parse_sse(r.text)[-1][0] == "done"


def test_checks_answer_as_plain_json_before_the_stream_opens(api, llm, channel, key):
    r, events = chat_stream(api, "amgai_nope", "hi")
    assert (r.status_code, r.json(), events) == (401, {"error": "Invalid API key"}, None)
    r = api.post("/api/chat", json={"message": "", "session_id": "a", "stream": True}, headers={"X-API-Key": key, "Accept": "text/event-stream"})
    assert (r.status_code, r.headers["content-type"], r.json()) == (400, "application/json", {"error": "message must not be empty"})
    channel.credits = 0
    channel.save()
    r, events = chat_stream(api, key)
    assert r.status_code == 403 and events is None
    assert llm.requests == []


def test_stream_must_be_a_boolean(api, llm, key):
    r = api.post("/api/chat", json={"message": "hi", "session_id": "a", "stream": "yes"}, headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (400, {"error": "stream must be true or false"})


def test_a_provider_failure_before_any_token_ends_with_an_error_event(api, llm, channel, key):
    llm.mode, llm.status = "status", 503
    r, events = chat_stream(api, key)
    assert r.status_code == 200
    assert events == [("error", AI_ERROR)]
    channel.refresh_from_db()
    assert channel.credits == 100
    assert not Message.objects.exists()
    assert limits.daily_used(channel) == 0


def test_a_provider_failure_mid_stream_ends_with_an_error_event_and_charges_nothing(api, llm, channel, key):
    llm.mode = "stream_break"
    r, events = chat_stream(api, key, "one two three four")
    kinds = [kind for kind, _ in events]
    assert kinds == ["token", "token", "error"]
    assert events[-1] == ("error", AI_ERROR)
    channel.refresh_from_db()
    assert channel.credits == 100
    assert not Message.objects.exists()


def test_a_stream_without_done_marker_is_a_failure(api, llm, channel, key):
    llm.mode = "stream_no_done"
    r, events = chat_stream(api, key, "a b")
    assert events[-1] == ("error", AI_ERROR)
    assert not Message.objects.exists()


def test_heartbeats_keep_an_idle_stream_alive(api, llm, key, settings):
    settings.STREAM_HEARTBEAT_SECONDS = 0.1
    llm.token_delay = 0.35
    r, events = chat_stream(api, key, "slow reply")
    assert ("comment", "keep-alive") in events
    assert events[-1][0] == "done"


def test_a_client_leaving_before_any_token_cancels_upstream_and_is_charged_nothing(gateway_server, api, llm, channel, key):
    llm.latency = 3
    with loopback.Client(base_url=gateway_server.url, timeout=0.5) as impatient:
        try:
            impatient.post("/api/chat", json={"message": "hi", "session_id": "gone", "stream": True}, headers={"X-API-Key": key})
        except httpx.ReadTimeout:
            pass

    def settled():
        channel.refresh_from_db()
        return channel.credits == 100 and limits.daily_used(channel) == 0

    assert wait_until(settled)
    assert not Message.objects.exists()


def test_a_client_leaving_mid_stream_cancels_upstream_and_keeps_what_it_received(gateway_server, api, llm, channel, key):
    llm.token_delay = 0.3
    received = []
    with loopback.Client(base_url=gateway_server.url, timeout=10) as client:
        body = {"message": "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10", "session_id": "left", "stream": True}
        with client.stream("POST", "/api/chat", json=body, headers={"X-API-Key": key}) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    received.append(line)
                if len(received) == 2:
                    break  # hang up after two tokens
    assert wait_until(lambda: llm.cancelled == 1)  # the provider call was cancelled
    assert wait_until(lambda: Message.objects.filter(role="assistant").exists())
    partial = Message.objects.get(role="assistant").content
    assert partial.startswith("Echo: w1")
    assert len(partial) < len("Echo: w1 w2 w3 w4 w5 w6 w7 w8 w9 w10")
    channel.refresh_from_db()
    assert channel.credits == 99  # the client got part of an answer


@pytest.mark.live  # concurrent clients on a real server
def test_100_concurrent_streams(api, llm, channel, key):
    channel.rate_limit_per_minute = 1000
    channel.save()
    llm.token_delay = 0.05

    def one(i):
        return chat_stream(api, key, f"stream {i} words here", session_id=f"c{i}")

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(one, range(100)))
    for i, (r, events) in enumerate(results):
        assert r.status_code == 200
        assert events[-1] == ("done", {"reply": f"Echo: stream {i} words here", "session_id": f"c{i}", "sources": []})
    assert Message.objects.count() == 200
    channel.refresh_from_db()
    assert channel.credits == 0
