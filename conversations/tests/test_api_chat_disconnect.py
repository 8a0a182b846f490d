"""A client that hangs up while the provider is still thinking."""

import json
import socket

import httpx

from conversations.engine import limits
from conversations.models import Message
from gateway.testing.waiting import wait_until


def test_a_client_that_leaves_before_the_reply_is_charged_nothing(gateway_server, api, llm, channel, key):
    llm.latency = 1.5
    # The client hangs up once its chat reached the provider (not after a fixed time: on a busy machine the
    # gateway may take longer than that to get there).
    body = json.dumps({"message": "Hi", "session_id": "gone"}).encode()
    url = httpx.URL(gateway_server.url)
    with socket.create_connection((url.host, url.port), timeout=10) as impatient:
        impatient.sendall(
            b"POST /api/chat HTTP/1.1\r\nHost: " + url.host.encode() + b"\r\nContent-Type: application/json\r\n"
            + b"X-API-Key: " + key.encode() + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        assert wait_until(lambda: len(llm.requests) == 1)

    def settled():
        channel.refresh_from_db()
        return channel.credits == 100 and limits.daily_used(channel) == 0

    # The gateway cancels the provider call and gives back what it held.
    assert wait_until(settled)
    assert wait_until(lambda: llm.finished == 1)  # the provider's call is over: nothing can arrive late
    assert settled()
    assert not Message.objects.exists()


def test_the_demo_provider_answers_labelled_when_no_upstream_key_is_set(api, key, settings):
    settings.LLM_API_KEY = ""
    r = api.post("/api/chat", json={"message": "Hi there", "session_id": "demo"}, headers={"X-API-Key": key})
    assert r.status_code == 200
    assert r.json()["reply"].startswith("[Demo reply from the built-in offline provider")
    assert "Hi there" in r.json()["reply"]
    assert Message.objects.get(role="assistant").model == "demo"
