"""POST /api/chat and GET /api/history with a publishable key, through real HTTP."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.models import PublishableKey
from channels_app.services import (
    channel_set_allowed_origins,
    publishable_key_issue,
    publishable_key_revoke,
    publishable_key_rotate,
)
from conversations.engine import limits
from conversations.models import FailedRequest, Message, Session
from gateway.testing.api import WIDGET_ORIGIN, chat, cors_headers, issued_session_id, widget_chat, widget_history

GRANT = {
    "access-control-allow-origin": WIDGET_ORIGIN,
    "access-control-expose-headers": "Retry-After, Idempotent-Replayed",
}


def test_it_chats_from_an_allowed_origin_with_a_cors_grant(api, llm, channel, widget_key):
    r = widget_chat(api, widget_key, "Hi", metadata={"url": f"{WIDGET_ORIGIN}/p", "title": "P"})
    assert (r.status_code, r.json()) == (200, {"reply": "Echo: Hi", "session_id": issued_session_id(widget_key, "v-1"), "sources": []})
    assert cors_headers(r) == GRANT
    assert "Origin" in r.headers["Vary"]
    channel.refresh_from_db()
    assert channel.credits == 99
    assert Session.objects.get().channel == channel


def test_it_reads_history_from_an_allowed_origin(api, llm, widget_key):
    widget_chat(api, widget_key, "Hi")
    r = widget_history(api, widget_key)
    assert r.status_code == 200
    assert [m["content"] for m in r.json()["messages"]] == ["Hi", "Echo: Hi"]
    assert cors_headers(r) == GRANT


def test_it_streams_with_a_cors_grant(api, llm, widget_key):
    with api.stream("POST", "/api/chat", params={"key": widget_key}, headers={"Origin": WIDGET_ORIGIN},
                    json={"message": "Hi", "session_id": issued_session_id(widget_key, "v-1"), "stream": True}) as r:
        body = r.read().decode()
    assert r.headers["content-type"].startswith("text/event-stream")
    assert cors_headers(r) == GRANT
    assert "event: done" in body


def test_it_accepts_the_publishable_key_in_the_header_too(api, llm, widget_key):
    session_id = issued_session_id(widget_key, "v")
    r = api.post("/api/chat", json={"message": "Hi", "session_id": session_id}, headers={"X-API-Key": widget_key, "Origin": WIDGET_ORIGIN})
    assert r.status_code == 200
    assert cors_headers(r) == GRANT


@pytest.mark.parametrize("origin", [
    None,
    "https://evil.example",
    "https://shop.example:8443",
    "http://shop.example",
    "https://shop.example/",
    "https://SHOP.example",
    "https://shop.example.evil.example",
    "null",
])
def test_it_refuses_any_other_origin_without_cors_and_without_spending(api, llm, channel, widget_key, origin):
    for r in (widget_chat(api, widget_key, origin=origin), widget_history(api, widget_key, origin=origin)):
        assert (r.status_code, r.json()) == (403, {"error": "Origin not allowed"})
        assert cors_headers(r) == {}
    channel.refresh_from_db()
    assert channel.credits == 100
    assert limits.daily_used(channel) == 0
    assert not Message.objects.exists() and not Session.objects.exists()
    assert not FailedRequest.objects.exists()
    assert llm.requests == []


def test_a_channel_without_allowed_origins_refuses_every_origin(api, llm, channel, widget_key):
    channel_set_allowed_origins(channel=channel, allowed_origins=[])
    assert widget_chat(api, widget_key).status_code == 403


def test_it_refuses_a_revoked_publishable_key(api, llm, widget_key):
    publishable_key_revoke(publishable_key=PublishableKey.objects.get(key=widget_key))
    r = widget_chat(api, widget_key)
    assert (r.status_code, r.json()) == (401, {"error": "Invalid API key"})
    assert cors_headers(r) == {}
    assert llm.requests == []


def test_it_refuses_a_mistyped_publishable_key(api, llm, widget_key):
    typo = widget_key[:10] + ("A" if widget_key[10] != "A" else "B") + widget_key[11:]
    r = widget_chat(api, typo)
    assert (r.status_code, r.json()) == (401, {"error": "Invalid API key"})
    assert cors_headers(r) == {}


def test_a_rotated_key_works_through_its_grace_period(api, llm, channel, widget_key):
    new = publishable_key_rotate(channel=channel, grace=timedelta(seconds=2)).key
    ends = PublishableKey.objects.get(key=widget_key).revoked_at
    assert widget_chat(api, widget_key).status_code == 200  # with Redis, the server now holds it in its key cache
    assert widget_chat(api, new).status_code == 200
    time.sleep(max(0.0, (ends - timezone.now()).total_seconds()) + 0.1)
    assert widget_chat(api, widget_key).status_code == 401
    assert widget_chat(api, new).status_code == 200


def test_another_channels_publishable_key_cannot_read_this_channels_sessions(api, llm, widget_key, other_channel_and_key):
    other, _ = other_channel_and_key
    channel_set_allowed_origins(channel=other, allowed_origins=[WIDGET_ORIGIN])
    other_key = publishable_key_issue(channel=other).key
    widget_chat(api, widget_key, "secret of channel one", session_id="shared")
    r = widget_history(api, other_key, session_id="shared")
    assert (r.status_code, r.json()) == (200, {"messages": []})


def test_an_inactive_channel_answers_its_widget_with_a_readable_403(api, llm, channel, widget_key):
    channel.is_active = False
    channel.save()
    r = widget_chat(api, widget_key)
    assert (r.status_code, r.json()) == (403, {"error": "Site is inactive"})
    assert cors_headers(r) == GRANT


def test_errors_from_an_allowed_origin_are_readable_by_the_page(api, llm, channel, widget_key):
    r = api.post("/api/chat", params={"key": widget_key}, json={"message": ""}, headers={"Origin": WIDGET_ORIGIN})
    assert (r.status_code, r.json()) == (400, {"error": "message must not be empty"})
    assert cors_headers(r) == GRANT
    channel.credits = 0
    channel.save()
    r = widget_chat(api, widget_key)
    assert r.status_code == 403 and "credits" in r.json()["error"]
    assert cors_headers(r) == GRANT


def test_the_secret_key_keeps_working_beside_a_publishable_one(api, llm, key, widget_key):
    assert chat(api, key).status_code == 200
