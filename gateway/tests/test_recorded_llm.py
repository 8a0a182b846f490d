"""The recorded provider traffic and its replay server.

Each fixture must parse, name a public source, hold no key, and come back over real HTTP
exactly as recorded: status, headers and body bytes.
"""

import json
import re

import pytest

from gateway.testing import loopback
from gateway.testing.recorded_llm import TRAFFIC_DIR, fixtures, load

# The provider answers the gateway must handle (chats, streams with and without usage, each kind of error):
# more may be added, none of these may go.
REQUIRED = {
    "groq_chat", "groq_stream", "openai_stream_usage", "openai_stream_no_usage", "stream_usage_null",
    "openai_chat", "groq_400_model_decommissioned", "openai_404_model_not_found",
    "litellm_400_invalid_model", "groq_413", "groq_429",
}
KEY_LIKE = re.compile(rb"(?<![A-Za-z0-9])(sk-[A-Za-z0-9_-]{8,}|gsk_[A-Za-z0-9]{8,})|Bearer [A-Za-z0-9._-]{8,}")
ALL = fixtures()


@pytest.fixture
def replay(recorded_llm_server):
    recorded_llm_server.app.reset()
    yield recorded_llm_server
    recorded_llm_server.app.reset()


def post(server, body=None, **kwargs):
    return loopback.post(f"{server.url}/v1/chat/completions", json=body or {"model": "m", "messages": []},
                         timeout=10, **kwargs)


def test_every_case_the_issue_names_is_recorded():
    assert REQUIRED <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_it_parses_and_names_a_public_source(name):
    recorded = load(name)
    assert 200 <= recorded.status < 600 and recorded.reason
    assert recorded.header("content-type")
    assert recorded.body
    assert any(line.startswith("Source") for line in recorded.source), "no Source line"
    assert any("https://" in line for line in recorded.source), "no public source URL"
    assert any(line.startswith("Edits:") for line in recorded.source), "say what was edited, or 'none'"
    assert len(recorded.body) < 8_000, "keep fixtures small"


@pytest.mark.parametrize("name", ALL)
def test_it_holds_no_key_like_string(name):
    assert KEY_LIKE.findall((TRAFFIC_DIR / f"{name}.http").read_bytes()) == []


def test_the_key_check_would_see_a_key():
    assert KEY_LIKE.search(b'"Authorization": "Bearer gsk_abcdefghijklmnop"')
    assert KEY_LIKE.search(b"key=sk-proj-abcdefghijkl")
    assert not KEY_LIKE.search(b"task-abcdefghijkl chatcmpl-CIyJaOZW1cSN0oFzR0KNpr0DEQdxO")


@pytest.mark.parametrize("name", ALL)
def test_the_body_is_what_it_claims_to_be(name):
    recorded = load(name)
    if recorded.is_stream:
        events = recorded.events()
        assert events[-1] == "[DONE]"
        assert b"".join(recorded.pieces()) == recorded.body
        chunks = [json.loads(e) for e in events[:-1]]
        assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    elif recorded.status == 200 and recorded.json().get("object") == "list":  # GET /models
        assert all(model["id"] and model["object"] == "model" for model in recorded.json()["data"])
    elif recorded.status == 200:
        assert recorded.json()["choices"][0]["message"]["content"]
    else:
        assert recorded.json()["error"]["message"]


@pytest.mark.parametrize("name", ALL)
def test_it_is_served_byte_for_byte(replay, name):
    recorded = load(name)
    replay.app.play(name)
    response = post(replay)
    assert response.status_code == recorded.status
    assert response.content == recorded.body
    for key, value in recorded.headers:
        assert response.headers[key] == value
    sent = {k.lower() for k, _ in recorded.headers} | {"content-length", "transfer-encoding"}
    assert set(response.headers) <= sent, "the replay added headers the provider did not send"


def test_a_stream_arrives_one_event_at_a_time(replay):
    recorded = load("groq_stream")
    replay.app.play("groq_stream")
    replay.app.event_delay = 0.02
    with loopback.stream("POST", f"{replay.url}/v1/chat/completions", json={"stream": True}, timeout=10) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        received = list(response.iter_raw())
    assert b"".join(received) == recorded.body
    assert received == recorded.pieces()
    assert len(received) == 13  # the role chunk, ten content chunks, the x_groq.usage chunk, [DONE]


def test_the_stream_cases_differ_where_the_issue_says(replay):
    groq = [json.loads(e) for e in load("groq_stream").events()[:-1]]
    assert groq[-1]["x_groq"]["usage"]["completion_tokens"] == 15 and all("usage" not in c for c in groq)
    asked = [json.loads(e) for e in load("openai_stream_usage").events()[:-1]]
    assert asked[-1]["choices"] == [] and asked[-1]["usage"]["total_tokens"] == 22
    assert all(c["usage"] is None for c in asked[:-1])
    unasked = [json.loads(e) for e in load("openai_stream_no_usage").events()[:-1]]
    assert all("usage" not in c and c["choices"] for c in unasked)
    nulls = [json.loads(e) for e in load("stream_usage_null").events()[:-1]]
    assert all("usage" in c and c["usage"] is None and c["choices"] for c in nulls)
    assert load("groq_429").header("retry-after") == "2"


def test_it_records_each_request(replay):
    replay.app.play("groq_chat")
    body = {"model": "llama-3.3-70b-versatile", "messages": [{"role": "user", "content": "hi"}],
            "stream": True, "stream_options": {"include_usage": True}}
    post(replay, body, headers={"Authorization": "Bearer test-key"})
    [seen] = replay.app.requests
    assert seen["method"] == "POST" and seen["path"] == "/v1/chat/completions"
    assert seen["json"] == body
    assert seen["headers"]["authorization"] == "Bearer test-key"


def test_play_answers_in_order_then_repeats_the_last(replay):
    replay.app.play("groq_429", "groq_chat")
    statuses = [post(replay).status_code for _ in range(3)]
    assert statuses == [429, 200, 200]


def test_it_refuses_other_paths_and_an_unset_fixture(replay):
    assert loopback.get(f"{replay.url}/v1/models", timeout=10).status_code == 404
    response = post(replay)
    assert response.status_code == 500
    assert "play" in response.json()["error"]["message"]


def test_load_refuses_a_malformed_file(tmp_path, monkeypatch):
    monkeypatch.setattr("gateway.testing.recorded_llm.TRAFFIC_DIR", tmp_path)
    (tmp_path / "bad.http").write_bytes(b"# source\nHTTP/1.1 200 OK\n\n{}")
    with pytest.raises(ValueError, match="blank line"):
        load("bad")
    (tmp_path / "bad.http").write_bytes(b"# source\n\nnot a status line\n\n{}")
    with pytest.raises(ValueError, match="status line"):
        load("bad")
