"""POST /api/feedback: 👍/👎 and an optional comment on a session's latest reply, from a backend or the widget."""

import pytest

from channels_app.services import api_key_issue, api_key_revoke
from conversations.models import Feedback, Message, Session
from gateway.testing.api import WIDGET_ORIGIN, chat, issued_session_id, widget_chat


def give(api, key, session_id="s-1", **body):
    body.setdefault("rating", "up")
    return api.post("/api/feedback", json={"session_id": session_id, **body}, headers={"X-API-Key": key})


def test_it_rates_the_latest_reply(api, llm, key):
    chat(api, key, "one")
    chat(api, key, "two")
    r = give(api, key, rating="down", comment="Wrong shop hours")
    assert (r.status_code, r.json()) == (200, {"session_id": "s-1", "rating": "down", "comment": "Wrong shop hours"})
    feedback = Feedback.objects.get()
    assert (feedback.message.content, feedback.rating, feedback.comment) == ("Echo: two", "down", "Wrong shop hours")


def test_giving_it_again_replaces_it(api, llm, key):
    chat(api, key, "one")
    give(api, key, rating="down", comment="meh")
    give(api, key, rating="up")
    assert list(Feedback.objects.values_list("rating", "comment")) == [("up", "")]


def test_it_answers_404_for_a_session_without_a_reply(api, llm, key):
    r = give(api, key, "never-used")
    assert (r.status_code, r.json()) == (404, {"error": "This session has no reply to give feedback on"})


def test_it_does_not_rate_an_expired_thread(api, llm, key):
    chat(api, key, "old")
    Session.objects.update(expires_at=Session.objects.get().started_at)
    assert give(api, key).status_code == 404
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    "body, error",
    [
        ({"rating": "meh"}, 'rating must be "up" or "down"'),
        ({"rating": None}, 'rating must be "up" or "down"'),
        ({"rating": "up", "comment": "x" * 1001}, "comment must be at most 1000 characters"),
        ({"rating": "up", "stars": 5}, "Unknown field: stars"),
    ],
)
def test_it_validates_its_input(api, llm, key, body, error):
    chat(api, key)
    r = api.post("/api/feedback", json={"session_id": "s-1", **body}, headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (400, {"error": error})
    r = api.post("/api/feedback", json={"session_id": "s-1"}, headers={"X-API-Key": key})
    assert r.json() == {"error": "rating is required"}
    assert not Feedback.objects.exists()


def test_it_handles_missing_api_key(api, llm, key):
    chat(api, key)
    r = api.post("/api/feedback", json={"session_id": "s-1", "rating": "up"})
    assert (r.status_code, r.json()) == (401, {"error": "Missing API key"})


def test_it_handles_a_wrong_and_a_revoked_key(api, llm, channel, key):
    chat(api, key)
    revoked = api_key_issue(channel=channel)
    api_key_revoke(api_key=revoked.api_key)
    for bad in ["amgai_wrong", revoked.plaintext]:
        assert give(api, bad).json() == {"error": "Invalid API key"}
    assert not Feedback.objects.exists()


def test_it_cannot_rate_another_channels_session(api, llm, key, other_channel_and_key):
    chat(api, other_channel_and_key[1].plaintext, "theirs", session_id="s-1")
    assert give(api, key).status_code == 404
    assert not Feedback.objects.exists()


def test_the_widget_rates_its_own_session_from_an_allowed_origin(api, llm, widget_key):
    widget_chat(api, widget_key, "hello", session_id="v-1")
    sid = issued_session_id(widget_key, "v-1")
    r = api.post("/api/feedback", params={"key": widget_key}, json={"session_id": sid, "rating": "up", "comment": "🙂"},
                 headers={"Origin": WIDGET_ORIGIN})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == WIDGET_ORIGIN
    assert Feedback.objects.get().message.session.source == "widget"


def test_the_widget_cannot_rate_a_session_it_was_not_issued(api, llm, key, widget_key):
    chat(api, key, "backend chat", session_id="s-1")
    r = api.post("/api/feedback", params={"key": widget_key}, json={"session_id": "s-1", "rating": "down"},
                 headers={"Origin": WIDGET_ORIGIN})
    assert (r.status_code, r.json()) == (400, {"error": "Invalid session_id"})


def test_the_widget_is_refused_from_another_origin(api, llm, widget_key):
    widget_chat(api, widget_key, "hello", session_id="v-1")
    r = api.post("/api/feedback", params={"key": widget_key},
                 json={"session_id": issued_session_id(widget_key, "v-1"), "rating": "up"},
                 headers={"Origin": "https://evil.example"})
    assert (r.status_code, r.json()) == (403, {"error": "Origin not allowed"})
    assert "access-control-allow-origin" not in r.headers
    assert not Feedback.objects.exists()
    assert Message.objects.count() == 2


def test_feedback_is_counted_against_its_own_per_minute_limit(api, llm, channel, key):
    chat(api, key, "Hello")
    channel.rate_limit_per_minute = 2
    channel.save()
    assert [give(api, key).status_code for _ in range(3)] == [200, 200, 429]
    assert chat(api, key, "still chatting").status_code == 200  # the chat's own counter is apart
