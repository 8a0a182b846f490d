"""DELETE /api/history?session_id=…: the owner's backend erases a session, every copy of it, with an audit event."""

import pytest

from channels_app.services import api_key_issue, api_key_revoke
from conversations.engine.erasure import subject_digest
from conversations.models import AuditEvent, Feedback, IdempotencyKey, Message, Session
from gateway.testing.api import WIDGET_ORIGIN, chat, chat_stream, history, issued_session_id, widget_chat
from gateway.testing.tables import tables_containing

SECRET = "zebra-quartz-7781"  # a text no other row holds


def erase(api, key, session_id="s-1", **params):
    return api.delete("/api/history", params={"session_id": session_id, **params}, headers={"X-API-Key": key})


def test_it_erases_every_copy_of_the_session(api, llm, channel, key):
    sid = f"user-{SECRET}"
    chat(api, key, f"my secret is {SECRET}", session_id=sid)
    chat_stream(api, key, f"again {SECRET}", session_id=sid)
    r = api.post("/api/chat", json={"message": f"once {SECRET}", "session_id": sid},
                 headers={"X-API-Key": key, "Idempotency-Key": "k-1"})
    assert r.status_code == 200
    assert api.post("/api/feedback", json={"session_id": sid, "rating": "down", "comment": f"bad {SECRET}"},
                    headers={"X-API-Key": key}).status_code == 200
    Session.objects.filter(session_id=sid).update(expires_at=Session.objects.get(session_id=sid).started_at)
    chat(api, key, f"new thread {SECRET}", session_id=sid)  # a second thread of the same session
    assert Session.objects.filter(session_id=sid).count() == 2
    assert tables_containing(SECRET)

    r = erase(api, key, sid)

    assert r.status_code == 200
    assert r.json() == {
        "session_id": sid,
        "deleted": {"threads": 2, "messages": 8, "feedback": 1, "idempotency_answers": 1, "failed_requests": 0},
    }
    assert tables_containing(SECRET) == {}
    assert history(api, key, sid).json() == {"messages": []}


def test_it_records_the_erasure_without_the_content(api, llm, channel, key):
    chat(api, key, f"hello {SECRET}", session_id=SECRET)
    erase(api, key, SECRET)
    event = AuditEvent.objects.get()
    assert (event.channel, event.action, event.via, event.actor) == (channel, "session_erased", "api", None)
    assert event.subject == subject_digest(channel=channel, session_id=SECRET)
    assert event.counts["messages"] == 2
    assert SECRET not in str(event.__dict__)


def test_it_leaves_other_sessions_and_channels_alone(api, llm, channel, key, other_channel_and_key):
    other_key = other_channel_and_key[1].plaintext
    chat(api, key, "keep me", session_id="s-2")
    chat(api, other_key, "theirs", session_id="s-1")
    chat(api, key, "erase me", session_id="s-1")
    assert erase(api, key, "s-1").json()["deleted"]["threads"] == 1
    assert len(history(api, key, "s-2").json()["messages"]) == 2
    assert len(history(api, other_key, "s-1").json()["messages"]) == 2


def test_it_answers_zeros_for_an_unknown_session(api, key):
    r = erase(api, key, "never-used")
    assert r.status_code == 200
    assert set(r.json()["deleted"].values()) == {0}


def test_it_erases_a_widget_session_when_asked_for_source_widget(api, llm, channel, key, widget_key):
    widget_chat(api, widget_key, f"visitor {SECRET}", session_id="v-1")
    sid = issued_session_id(widget_key, "v-1")
    assert erase(api, key, sid).json()["deleted"]["threads"] == 0  # the api namespace by default
    r = erase(api, key, sid, source="widget")
    assert r.json()["deleted"]["threads"] == 1
    assert tables_containing(SECRET) == {}


def test_it_refuses_a_publishable_key(api, llm, widget_key):
    widget_chat(api, widget_key, "hi", session_id="v-1")
    r = api.delete("/api/history", params={"key": widget_key, "session_id": issued_session_id(widget_key, "v-1")},
                   headers={"Origin": WIDGET_ORIGIN})
    assert (r.status_code, r.json()) == (403, {"error": "This endpoint takes a secret key"})
    assert Message.objects.count() == 2


def test_it_handles_missing_api_key(api, llm, key):
    chat(api, key, "hi")
    r = api.delete("/api/history", params={"session_id": "s-1"})
    assert (r.status_code, r.json()) == (401, {"error": "Missing API key"})
    assert Message.objects.count() == 2


@pytest.mark.parametrize("bad", ["amgai_wrong", "not-a-key"])
def test_it_handles_a_wrong_key(api, llm, key, bad):
    chat(api, key, "hi")
    assert erase(api, bad).json() == {"error": "Invalid API key"}
    assert Message.objects.count() == 2


def test_it_handles_a_revoked_key(api, llm, channel, key):
    revoked = api_key_issue(channel=channel)
    api_key_revoke(api_key=revoked.api_key)
    chat(api, key, "hi")
    r = erase(api, revoked.plaintext)
    assert (r.status_code, r.json()) == (401, {"error": "Invalid API key"})
    assert Message.objects.count() == 2


def test_it_requires_a_session_id(api, key):
    r = api.delete("/api/history", headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (400, {"error": "session_id is required"})


def test_it_keeps_feedback_and_idempotency_rows_of_other_sessions(api, llm, key):
    api.post("/api/chat", json={"message": "a", "session_id": "s-2"}, headers={"X-API-Key": key, "Idempotency-Key": "k"})
    api.post("/api/feedback", json={"session_id": "s-2", "rating": "up"}, headers={"X-API-Key": key})
    chat(api, key, "b", session_id="s-1")
    erase(api, key, "s-1")
    assert (Feedback.objects.count(), IdempotencyKey.objects.count()) == (1, 1)


def test_it_deletes_failed_request_rows_that_quote_the_session_id(api, llm, channel, key):
    from conversations.models import FailedRequest

    sid = f"caller-{SECRET}"
    chat(api, key, "hi", session_id=sid)
    FailedRequest.objects.create(channel=channel, endpoint="chat", status=400, error=f"bad {sid}")
    FailedRequest.objects.create(channel=channel, endpoint="chat", status=429, error="Rate limit exceeded")
    assert erase(api, key, sid).json()["deleted"]["failed_requests"] == 1
    assert list(FailedRequest.objects.values_list("error", flat=True)) == ["Rate limit exceeded"]
    assert tables_containing(SECRET) == {}


def test_a_short_session_id_leaves_unrelated_failed_requests(api, llm, channel, key):
    from conversations.models import FailedRequest

    chat(api, key, "hi", session_id="e")
    FailedRequest.objects.create(channel=channel, endpoint="chat", status=429, error="Rate limit exceeded")
    assert erase(api, key, "e").json()["deleted"] == {
        "threads": 1, "messages": 2, "feedback": 0, "idempotency_answers": 0, "failed_requests": 0,
    }
    assert FailedRequest.objects.count() == 1
