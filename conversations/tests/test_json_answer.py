"""API answers built by gateway/infra/json_answer.py are what a DRF Response would have sent: bytes and headers."""

import datetime as dt
from decimal import Decimal

from rest_framework.renderers import JSONRenderer

from gateway.infra.json_answer import json_answer
from gateway.testing.api import chat, history

TRICKY_REPLY = 'Grüße — "quoted" \\ back\u2028slash\u2029 😀 <b>&</b>'


def test_it_renders_what_drfs_json_renderer_renders():
    data = {"reply": TRICKY_REPLY, "at": dt.datetime(2026, 12, 1, 10, 0, 1, 123456, tzinfo=dt.timezone.utc),
            "cost": Decimal("0.000012"), "n": [1, 2.5, None, True]}
    answer = json_answer(data, headers={"Idempotent-Replayed": "true"})
    assert answer.content == JSONRenderer().render(data)
    assert b"\\u2028" in answer.content and "😀".encode() in answer.content  # escaped separators, raw UTF-8
    assert (answer.status_code, answer["Content-Type"], answer["Idempotent-Replayed"]) == (200, "application/json", "true")


def test_a_chat_and_a_history_answer_carry_the_headers_of_the_views_drf_answers(api, llm, key):
    llm.reply = TRICKY_REPLY
    r = chat(api, key, "Hello!")
    assert r.status_code == 200
    assert r.content == JSONRenderer().render({"reply": TRICKY_REPLY, "session_id": "s-1", "sources": []})
    refused = api.post("/api/chat", json={"message": "", "session_id": "s-1"}, headers={"X-API-Key": key})
    assert refused.status_code == 400  # a DRF Response, from the exception handler, through the same view
    for name in ("content-type", "allow", "vary", "x-content-type-options", "referrer-policy"):
        assert r.headers.get(name) == refused.headers.get(name), name
    assert r.headers["content-type"] == "application/json" and r.headers["allow"] == "POST, OPTIONS"
    h = history(api, key)
    assert h.status_code == 200 and h.headers["content-type"] == "application/json"
    assert [m["content"] for m in h.json()["messages"]] == ["Hello!", TRICKY_REPLY]
