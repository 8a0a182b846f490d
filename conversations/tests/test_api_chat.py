"""POST /api/chat through real HTTP, against a real OpenAI-compatible server on loopback."""

from channels_app.providers.catalog import REASONING_ROOM
from conversations.models import Message, Session
from gateway.testing.api import chat, history


def test_it_answers_with_the_reply_and_echoes_the_session_id(api, llm, key):
    r = chat(api, key, "Hello there", session_id="user-session-abc123")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"reply": "Echo: Hello there", "session_id": "user-session-abc123", "sources": []}


def test_it_stores_the_exchange_with_usage(api, llm, key, channel):
    chat(api, key, "Hi")
    user, reply = Message.objects.filter(session__channel=channel).order_by("id")
    assert (user.role, user.content) == ("user", "Hi")
    assert (reply.role, reply.content) == ("assistant", "Echo: Hi")
    assert reply.model == channel.model
    assert (reply.prompt_tokens, reply.completion_tokens) == (11, 7)
    assert reply.latency_ms is not None and reply.latency_ms >= 0


def test_it_sends_the_channels_model_prompt_and_max_tokens_upstream(api, llm, key, channel):
    channel.system_prompt = "You are the shop assistant."
    channel.model = "openai/gpt-oss-20b"
    channel.max_reply_tokens = 600
    channel.save()
    chat(api, key, "What do you sell?", metadata={"url": "https://shop.example/p/1", "title": "Blue mug"})
    sent = llm.requests[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer sk-upstream-test-key-0123456789"
    body = sent["json"]
    assert body["model"] == "openai/gpt-oss-20b"
    # The channel's maximum reply length, not a fixed number; a reasoning model gets room to think on top.
    assert (body["max_tokens"], body["reasoning_effort"]) == (600 + REASONING_ROOM["low"], "low")
    system, page, user = body["messages"]
    assert system == {"role": "system", "content": "You are the shop assistant."}  # the page is never in it
    assert page["role"] == "user"
    assert page["content"].endswith('\n{"url": "https://shop.example/p/1", "title": "Blue mug"}')
    assert user == {"role": "user", "content": "What do you sell?"}


def test_it_sends_the_threads_history_as_context(api, llm, key):
    chat(api, key, "first", session_id="ctx")
    chat(api, key, "second", session_id="ctx")
    messages = llm.requests[-1]["json"]["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "first"),
        ("assistant", "Echo: first"),
        ("user", "second"),
    ]


def test_it_spends_one_credit_per_successful_chat(api, llm, key, channel):
    chat(api, key)
    chat(api, key)
    channel.refresh_from_db()
    assert channel.credits == 98


def test_it_accepts_the_contracts_minimal_request_with_charset(api, llm, key):
    r = api.post(
        "/api/chat",
        content=b'{"message": "Hi", "session_id": "a"}',
        headers={"X-API-Key": key, "Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200


def test_it_accepts_null_metadata(api, llm, key):
    assert chat(api, key, metadata=None).status_code == 200


def test_it_keeps_one_channels_sessions_apart_from_anothers(api, llm, key, channel, other_channel_and_key):
    other_key = other_channel_and_key[1].plaintext
    chat(api, key, "mine", session_id="shared-id")
    chat(api, other_key, "theirs", session_id="shared-id")
    assert [m["content"] for m in history(api, key, "shared-id").json()["messages"]] == ["mine", "Echo: mine"]
    assert [m["content"] for m in history(api, other_key, "shared-id").json()["messages"]] == ["theirs", "Echo: theirs"]
    # the other channel's message never reached this channel's context
    assert "mine" not in str(llm.requests[-1]["json"]["messages"])
    assert Session.objects.filter(session_id="shared-id").count() == 2
