"""GET /api/history through real HTTP."""

from datetime import timedelta

import pytest

from django.utils import timezone

from conversations.models import Session
from gateway.testing.api import chat, history


def test_it_returns_the_thread_oldest_first(api, llm, key):
    chat(api, key, "one")
    chat(api, key, "two")
    r = history(api, key)
    assert r.status_code == 200
    messages = r.json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "one"),
        ("assistant", "Echo: one"),
        ("user", "two"),
        ("assistant", "Echo: two"),
    ]
    for m in messages:
        assert set(m) == {"role", "content", "created_at"}
        assert m["created_at"].endswith("Z")
    stamps = [m["created_at"] for m in messages]
    assert stamps == sorted(stamps)


def test_it_returns_an_empty_list_for_an_unknown_session(api, key):
    r = history(api, key, "never-used")
    assert (r.status_code, r.json()) == (200, {"messages": []})


def test_it_returns_an_empty_list_once_the_thread_expired(api, llm, key):
    chat(api, key, "old")
    Session.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert history(api, key).json() == {"messages": []}


def test_it_never_shows_another_channels_session(api, llm, key, other_channel_and_key):
    chat(api, other_channel_and_key[1].plaintext, "secret of theirs", session_id="s-1")
    assert history(api, key, "s-1").json() == {"messages": []}


def test_it_requires_a_session_id(api, key):
    r = api.get("/api/history", headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (400, {"error": "session_id is required"})
    r = api.get("/api/history", params={"session_id": "x" * 256}, headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (400, {"error": "session_id must be at most 255 characters"})


def test_it_accepts_a_trailing_slash(api, llm, key):
    chat(api, key, "hi")
    r = api.get("/api/history/", params={"session_id": "s-1"}, headers={"X-API-Key": key})
    assert len(r.json()["messages"]) == 2


@pytest.mark.parametrize("source", ["", "API", "both"])
def test_a_source_outside_api_and_widget_is_refused_even_empty(api, key, source):
    r = api.get("/api/history", params={"session_id": "s-1", "source": source}, headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (400, {"error": 'source must be "api" or "widget"'})
