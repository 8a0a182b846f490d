"""A streamed chat with an Idempotency-Key whose client hung up mid-stream, then retried.

The gateway gives the key back: the cut-off exchange stays stored and charged
(the client was sent part of a reply), and a retry with the same key runs
again and gets a complete answer instead of a replay of the partial one.
"""

from conversations.models import IdempotencyKey, Message
from gateway.testing import loopback
from gateway.testing.api import history, parse_sse
from gateway.testing.waiting import wait_until

WORDS = "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10"
FULL = f"Echo: {WORDS}"
BODY = {"message": WORDS, "session_id": "cut"}
ONCE = "order-cut-1"


def _hang_up_after_two_tokens(gateway_server, llm, key) -> None:
    """Open the stream with the key, read two tokens, close the connection, wait until the gateway settled it."""
    llm.token_delay = 0.3
    tokens = 0
    with loopback.Client(base_url=gateway_server.url, timeout=10) as client:
        headers = {"X-API-Key": key, "Idempotency-Key": ONCE}
        with client.stream("POST", "/api/chat", json={**BODY, "stream": True}, headers=headers) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                tokens += line.startswith("event: token")
                if tokens == 2:
                    break
    assert wait_until(lambda: llm.cancelled == 1, timeout=8.0)  # the gateway noticed and cancelled the provider call
    assert wait_until(lambda: Message.objects.filter(role="assistant").exists(), timeout=8.0)  # the partial reply is stored
    assert wait_until(lambda: not IdempotencyKey.objects.filter(response__isnull=True).exists(), timeout=8.0)  # no claim in flight
    llm.token_delay = 0.0


def _retry(api, key, **body):
    return api.post("/api/chat", json={**BODY, **body}, headers={"X-API-Key": key, "Idempotency-Key": ONCE})


def test_a_streamed_retry_after_a_cut_off_stream_runs_again_and_completes(gateway_server, api, llm, channel, key):
    _hang_up_after_two_tokens(gateway_server, llm, key)
    partial = Message.objects.get(role="assistant").content
    assert partial.startswith("Echo: w1") and partial != FULL

    again = _retry(api, key, stream=True)
    assert again.status_code == 200
    assert "Idempotent-Replayed" not in again.headers  # not a replay of the partial answer
    assert parse_sse(again.text)[-1] == ("done", {"reply": FULL, "session_id": "cut", "sources": []})
    assert len(llm.requests) == 2

    # The key now holds the complete answer: a further repeat replays it, without a third call.
    replay = _retry(api, key, stream=True)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert parse_sse(replay.text)[-1] == ("done", {"reply": FULL, "session_id": "cut", "sources": []})
    assert len(llm.requests) == 2


def test_a_plain_retry_after_a_cut_off_stream_runs_again_and_completes(gateway_server, api, llm, channel, key):
    _hang_up_after_two_tokens(gateway_server, llm, key)

    again = _retry(api, key)
    assert (again.status_code, again.json()) == (200, {"reply": FULL, "session_id": "cut", "sources": []})
    assert "Idempotent-Replayed" not in again.headers
    assert len(llm.requests) == 2

    replay = _retry(api, key)
    assert (replay.json(), replay.headers["Idempotent-Replayed"]) == ({"reply": FULL, "session_id": "cut", "sources": []}, "true")
    assert len(llm.requests) == 2


def test_the_cut_off_part_stays_stored_and_charged_and_the_retry_is_charged_too(gateway_server, api, llm, channel, key):
    _hang_up_after_two_tokens(gateway_server, llm, key)
    channel.refresh_from_db()
    assert channel.credits == 99  # the client was sent part of a reply
    assert _retry(api, key).status_code == 200
    channel.refresh_from_db()
    assert channel.credits == 98  # the retry was a second provider call
    contents = [m["content"] for m in history(api, key, "cut").json()["messages"]]
    assert len(contents) == 4
    assert contents[0] == contents[2] == WORDS
    assert contents[1].startswith("Echo: w1") and contents[1] != FULL  # the cut-off exchange, as it was sent
    assert contents[3] == FULL
