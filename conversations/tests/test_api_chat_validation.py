"""Every bad chat body is a 400 with a clear message, and nothing is stored, spent or sent upstream."""

import pytest

from conversations.models import FailedRequest, Message

CASES = [
    ({"session_id": "s"}, "message is required"),
    ({"message": None, "session_id": "s"}, "message must be a string"),
    ({"message": 42, "session_id": "s"}, "message must be a string"),
    ({"message": ["Hi"], "session_id": "s"}, "message must be a string"),
    ({"message": "", "session_id": "s"}, "message must not be empty"),
    ({"message": "   \n", "session_id": "s"}, "message must not be empty"),
    ({"message": "a" * 2001, "session_id": "s"}, "message must be at most 2000 characters"),
    ({"message": "a\x00b", "session_id": "s"}, "message must not contain NUL characters"),
    ({"message": "Hi"}, "session_id is required"),
    ({"message": "Hi", "session_id": ""}, "session_id must not be empty"),
    ({"message": "Hi", "session_id": 7}, "session_id must be a string"),
    ({"message": "Hi", "session_id": "s" * 256}, "session_id must be at most 255 characters"),
    ({"message": "Hi", "session_id": "s", "metadata": "page"}, "metadata must be a JSON object"),
    ({"message": "Hi", "session_id": "s", "metadata": ["x"]}, "metadata must be a JSON object"),
    ({"message": "Hi", "session_id": "s", "metadata": {"url": 5}}, "metadata.url must be a string"),
    ({"message": "Hi", "session_id": "s", "metadata": {"url": "u" * 2049}}, "metadata.url must be at most 2048 characters"),
    ({"message": "Hi", "session_id": "s", "metadata": {"title": "t" * 201}}, "metadata.title must be at most 200 characters"),
    ({"message": "Hi", "session_id": "s", "metadata": {"colour": "red"}}, "Unknown field: metadata.colour"),
    ({"message": "Hi", "session_id": "s", "extra": 1}, "Unknown field: extra"),
]


@pytest.mark.parametrize("body,error", CASES, ids=[c[1] for c in CASES])
def test_it_refuses_bad_input_and_changes_nothing(api, llm, key, channel, body, error):
    r = api.post("/api/chat", json=body, headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (400, {"error": error})
    assert llm.requests == []
    assert not Message.objects.exists()
    channel.refresh_from_db()
    assert channel.credits == 100


def test_it_refuses_lone_surrogates(api, llm, key):
    body = b'{"message": "\\ud800", "session_id": "s"}'
    r = api.post("/api/chat", content=body, headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert (r.status_code, r.json()) == (400, {"error": "message must be valid Unicode text"})
    assert not Message.objects.exists()


def test_it_accepts_the_limits_exactly(api, llm, key):
    body = {
        "message": "é" * 2000,
        "session_id": "s" * 255,
        "metadata": {"url": "https://a.example/" + "u" * (2048 - 18), "title": "t" * 200},
    }
    r = api.post("/api/chat", json=body, headers={"X-API-Key": key})
    assert r.status_code == 200
    assert Message.objects.get(role="user").content == "é" * 2000


def test_it_keeps_the_message_exactly_as_sent(api, llm, key):
    message = "  two spaces, a tab\t, unicode ✓ and emoji 🎉  "
    api.post("/api/chat", json={"message": message, "session_id": "s"}, headers={"X-API-Key": key})
    assert Message.objects.get(role="user").content == message


def test_it_counts_a_refused_request_for_the_owner(api, llm, key, channel):
    api.post("/api/chat", json={"message": ""}, headers={"X-API-Key": key})
    failure = FailedRequest.objects.get(channel=channel)
    assert (failure.endpoint, failure.status) == ("chat", 400)


def test_one_requests_validation_leaves_nothing_behind_for_the_next():
    # The serializers' fields are shallow copies of their declarations (LightSerializer): no state may leak.
    from conversations.edge.serializers import ChatInput

    bad = ChatInput(data={"message": "x", "session_id": "s", "metadata": {"url": 5}})
    assert not bad.is_valid()
    first = ChatInput(data={"message": "first", "session_id": "a", "metadata": {"url": "https://a.example/"}})
    assert first.is_valid(), first.errors
    second = ChatInput(data={"message": "second", "session_id": "b"})
    assert second.is_valid(), second.errors
    assert second.validated_data == {"message": "second", "session_id": "b", "metadata": {}, "stream": False}
    assert first.validated_data["metadata"] == {"url": "https://a.example/"}
    assert ChatInput().fields["message"] is not ChatInput().fields["message"]
