"""CORS on the API: preflights answered per channel, and never a grant for a secret key."""

import pytest

from channels_app.models import PublishableKey
from channels_app.services import publishable_key_revoke
from conversations.models import Message
from gateway.testing.api import WIDGET_ORIGIN, chat, chat_stream, cors_headers, history, preflight

PATHS = ["/api/chat", "/api/history", "/api/widget-config", "/api/widget-challenge"]


@pytest.mark.parametrize("path", PATHS)
def test_it_grants_a_preflight_from_an_allowed_origin(api, widget_key, path):
    r = preflight(api, path, widget_key)
    assert r.status_code == 204
    assert cors_headers(r) == {
        "access-control-allow-origin": WIDGET_ORIGIN,
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": "Content-Type, Idempotency-Key, X-Altcha",
        "access-control-max-age": "600",
        "access-control-expose-headers": "Retry-After, Idempotent-Replayed",
    }
    assert "Origin" in r.headers["Vary"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://shop.example", "https://shop.example:444", "https://shop.example/"])
def test_it_refuses_a_preflight_from_another_origin(api, widget_key, origin):
    r = preflight(api, "/api/chat", widget_key, origin=origin)
    assert (r.status_code, r.json()) == (403, {"error": "Origin not allowed"})
    assert cors_headers(r) == {}


def test_it_refuses_a_preflight_without_a_publishable_key(api, key, widget_key):
    tampered = widget_key[:-1] + ("x" if widget_key[-1] != "x" else "y")  # one character off, never the key itself
    for pk in (None, key, "amgpk_nonsense", tampered):
        r = preflight(api, "/api/chat", pk)
        assert r.status_code in (401, 403)
        assert cors_headers(r) == {}


def test_it_refuses_a_preflight_for_a_revoked_key(api, widget_key):
    publishable_key_revoke(publishable_key=PublishableKey.objects.get(key=widget_key))
    r = preflight(api, "/api/chat", widget_key)
    assert r.status_code == 403
    assert cors_headers(r) == {}


def test_a_secret_key_sent_with_an_origin_works_without_any_cors_header(api, llm, key, widget_key):
    origin = {"Origin": WIDGET_ORIGIN}
    r = api.post("/api/chat", json={"message": "Hi", "session_id": "s"}, headers={"X-API-Key": key, **origin})
    assert r.status_code == 200
    assert cors_headers(r) == {}
    r = api.get("/api/history", params={"session_id": "s"}, headers={"X-API-Key": key, **origin})
    assert r.status_code == 200 and len(r.json()["messages"]) == 2
    assert cors_headers(r) == {}
    r = api.post("/api/chat", json={"message": ""}, headers={"X-API-Key": key, **origin})
    assert r.status_code == 400 and cors_headers(r) == {}
    r = api.post("/api/chat", json={"message": "Hi", "session_id": "s", "stream": True}, headers={"X-API-Key": key, **origin})
    assert r.headers["content-type"].startswith("text/event-stream") and cors_headers(r) == {}


def test_answers_to_secret_keys_are_unchanged(api, llm, key):
    for r in (chat(api, key), history(api, key), chat_stream(api, key)[0], chat(api, "amgai_wrong")):
        assert cors_headers(r) == {}
        assert "Origin" not in r.headers.get("Vary", "")


@pytest.mark.parametrize("path", ["/api/chat", "/api/history"])
def test_it_refuses_a_secret_key_in_the_url(api, llm, key, path):
    body = {"message": "Hi", "session_id": "s"}
    for headers in ({}, {"X-API-Key": key}, {"Origin": WIDGET_ORIGIN}):
        r = api.request("POST" if path == "/api/chat" else "GET", path, params={"key": key, "session_id": "s"},
                        json=body if path == "/api/chat" else None, headers=headers)
        assert (r.status_code, r.json()) == (401, {"error": "Secret keys must be sent in the X-API-Key header, never in the URL"})
        assert cors_headers(r) == {}
    assert not Message.objects.exists()
    assert llm.requests == []


def test_it_refuses_two_different_keys(api, llm, key, widget_key):
    r = api.post("/api/chat", params={"key": widget_key}, json={"message": "Hi", "session_id": "s"},
                 headers={"X-API-Key": key, "Origin": WIDGET_ORIGIN})
    assert (r.status_code, r.json()) == (401, {"error": "Invalid API key"})


def test_the_schema_and_other_api_paths_never_grant_cors(api, widget_key):
    for path in ("/api/schema/", "/api/nothing"):
        r = api.get(path, params={"key": widget_key}, headers={"Origin": WIDGET_ORIGIN})
        assert cors_headers(r) == {}


def test_an_empty_key_parameter_beside_a_header_is_a_second_key(api, llm, key):
    r = api.post("/api/chat", params={"key": ""}, json={"message": "Hi", "session_id": "s"}, headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (401, {"error": "Invalid API key"})
