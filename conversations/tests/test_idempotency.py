"""Idempotency-Key on POST /api/chat, through real HTTP."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import IdempotencyKey, Message

BODY = {"message": "Charge me once", "session_id": "idem"}


def post(api, key, body=BODY, once="order-42", **headers):
    return api.post("/api/chat", json=body, headers={"X-API-Key": key, "Idempotency-Key": once, **headers})


def test_a_repeat_returns_the_first_answer_without_a_second_call_or_charge(api, llm, channel, key):
    first = post(api, key)
    second = post(api, key)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() == {"reply": "Echo: Charge me once", "session_id": "idem", "sources": []}
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(llm.requests) == 1
    channel.refresh_from_db()
    assert channel.credits == 99
    assert Message.objects.count() == 2


def test_the_same_key_with_a_different_body_is_a_409(api, llm, key):
    post(api, key)
    r = post(api, key, {**BODY, "message": "Something else"})
    assert (r.status_code, r.json()) == (409, {"error": "This Idempotency-Key was already used with a different request"})
    assert len(llm.requests) == 1


def test_different_keys_are_different_requests(api, llm, channel, key):
    post(api, key, once="a")
    post(api, key, once="b")
    assert len(llm.requests) == 2
    channel.refresh_from_db()
    assert channel.credits == 98


@pytest.mark.live  # concurrent clients on a real server
def test_a_concurrent_repeat_is_refused_while_the_first_runs(api, llm, channel, key):
    llm.latency = 0.5
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: post(api, key), range(2)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409]
    assert [r.json() for r in responses if r.status_code == 409] == [{"error": "A request with this Idempotency-Key is still in progress"}]
    assert len(llm.requests) == 1
    channel.refresh_from_db()
    assert channel.credits == 99


def test_a_failed_chat_gives_the_key_back_for_a_retry(api, llm, channel, key, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.mode, llm.status = "status", 500
    assert post(api, key).status_code == 500
    assert not IdempotencyKey.objects.exists()
    llm.mode = "ok"
    r = post(api, key)
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    channel.refresh_from_db()
    assert channel.credits == 99


def test_a_refused_chat_does_not_keep_the_key(api, llm, channel, key):
    channel.credits = 0
    channel.save()
    assert post(api, key).status_code == 403
    assert not IdempotencyKey.objects.exists()


def test_a_key_is_remembered_for_24_hours(api, llm, key):
    post(api, key)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    r = post(api, key, {**BODY, "message": "A new day"})
    assert r.status_code == 200 and r.json()["reply"] == "Echo: A new day"
    assert len(llm.requests) == 2


def test_keys_belong_to_one_channel(api, llm, key, other_channel_and_key):
    post(api, key)
    r = post(api, other_channel_and_key[1].plaintext, {**BODY, "message": "theirs"})
    assert r.json()["reply"] == "Echo: theirs"


def test_it_refuses_a_bad_key(api, llm, key):
    for bad in [b"", b"x" * 256, "caf\u00e9".encode()]:
        r = api.post("/api/chat", json=BODY, headers={"X-API-Key": key, "Idempotency-Key": bad})
        assert (r.status_code, r.json()) == (400, {"error": "Idempotency-Key must be 1 to 255 visible ASCII characters"}), bad
    assert llm.requests == []


def test_a_streamed_chat_is_charged_once_and_replays_as_a_stream(api, llm, channel, key):
    from gateway.testing.api import parse_sse

    first = post(api, key, {**BODY, "stream": True})
    assert parse_sse(first.text)[-1] == ("done", {"reply": "Echo: Charge me once", "session_id": "idem", "sources": []})
    again = post(api, key, {**BODY, "stream": True})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert parse_sse(again.text) == [("token", {"delta": "Echo: Charge me once"}), ("done", {"reply": "Echo: Charge me once", "session_id": "idem", "sources": []})]
    # streaming is how the answer is delivered, not a different request: a plain repeat gets it as JSON
    plain = post(api, key)
    assert (plain.json(), plain.headers["Idempotent-Replayed"]) == ({"reply": "Echo: Charge me once", "session_id": "idem", "sources": []}, "true")
    assert len(llm.requests) == 1
    channel.refresh_from_db()
    assert channel.credits == 99


def test_a_failed_stream_gives_the_key_back(api, llm, channel, key):
    llm.mode = "stream_break"
    post(api, key, {**BODY, "stream": True})
    assert not IdempotencyKey.objects.exists()
    channel.refresh_from_db()
    assert channel.credits == 100
