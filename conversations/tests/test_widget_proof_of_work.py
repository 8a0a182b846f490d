"""The widget's proof of work (ALTCHA), through real HTTP: a channel that requires it answers a widget chat
only with a solved, unexpired challenge of its own, once; anything else is refused before any counter."""

import base64
import json

import altcha
import pytest

from conversations.engine import limits
from conversations.models import Message
from gateway.testing.api import WIDGET_ORIGIN, chat, cors_headers, issued_session_id, preflight, widget_chat


@pytest.fixture
def pow_channel(channel, widget_key, settings):
    settings.WIDGET_POW_MAX_NUMBER = 2000  # test-only speed-up: the Python solver tries fewer numbers
    channel.widget_pow_required = True
    channel.save()
    return channel


def get_challenge(api, pk, origin=WIDGET_ORIGIN):
    return api.get("/api/widget-challenge", params={"key": pk}, headers={"Origin": origin})


def solve(challenge: dict) -> str:
    """What the widget sends in X-Altcha: the solved challenge as base64 JSON (ALTCHA's v1 payload)."""
    solution = altcha.solve_challenge_v1(challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"])
    payload = {**{k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}, "number": solution.number}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def pow_chat(api, pk, solution, session_id="v-1"):
    session_id = issued_session_id(pk, session_id)  # the visitor's session, as the gateway issued it
    return api.post("/api/chat", params={"key": pk}, json={"message": "Hi", "session_id": session_id},
                    headers={"Origin": WIDGET_ORIGIN, "X-Altcha": solution})


def assert_nothing_counted_or_spent(channel):
    channel.refresh_from_db()
    assert channel.credits == 100
    assert limits.daily_used(channel) == 0
    assert not Message.objects.exists()


def test_widget_config_says_when_proof_of_work_is_required(api, pow_channel, widget_key):
    r = api.get("/api/widget-config", params={"key": widget_key}, headers={"Origin": WIDGET_ORIGIN})
    assert r.json()["pow_required"] is True


def test_a_solved_challenge_gets_a_chat_answered(api, llm, pow_channel, widget_key):
    r = get_challenge(api, widget_key)
    assert r.status_code == 200 and cors_headers(r)["access-control-allow-origin"] == WIDGET_ORIGIN
    assert set(r.json()) == {"algorithm", "challenge", "maxNumber", "salt", "signature"}
    assert r.json()["maxNumber"] == 2000
    r = pow_chat(api, widget_key, solve(r.json()))
    assert r.status_code == 200, r.text
    pow_channel.refresh_from_db()
    assert pow_channel.credits == 99


def test_a_chat_without_a_solution_is_refused_and_counts_nothing(api, llm, pow_channel, widget_key):
    r = widget_chat(api, widget_key)
    assert (r.status_code, r.json()) == (403, {"error": "Proof of work required"})
    assert cors_headers(r)["access-control-allow-origin"] == WIDGET_ORIGIN  # the widget can read why
    assert_nothing_counted_or_spent(pow_channel)
    assert not llm.requests


@pytest.mark.parametrize("forge", ["garbage", "wrong-number", "other-signature", "list"])
def test_a_forged_solution_is_refused_and_counts_nothing(api, llm, pow_channel, widget_key, forge):
    challenge = get_challenge(api, widget_key).json()
    payload = json.loads(base64.b64decode(solve(challenge)))
    if forge == "wrong-number":
        payload["number"] += 1
    elif forge == "other-signature":
        payload["signature"] = "0" * 64
    solution = {
        "garbage": "not base64 at all!",
        "list": base64.b64encode(b"[1, 2]").decode(),
    }.get(forge, base64.b64encode(json.dumps(payload).encode()).decode())
    r = pow_chat(api, widget_key, solution)
    assert (r.status_code, r.json()) == (403, {"error": "Proof of work invalid or expired"})
    assert_nothing_counted_or_spent(pow_channel)


def test_a_solution_works_once(api, llm, pow_channel, widget_key):
    solution = solve(get_challenge(api, widget_key).json())
    assert pow_chat(api, widget_key, solution).status_code == 200
    r = pow_chat(api, widget_key, solution, session_id="v-2")
    assert (r.status_code, r.json()) == (403, {"error": "Proof of work already used"})
    pow_channel.refresh_from_db()
    assert pow_channel.credits == 99


def test_an_expired_challenge_is_refused(api, llm, pow_channel, widget_key, settings):
    settings.WIDGET_POW_EXPIRES_SECONDS = -10
    solution = solve(get_challenge(api, widget_key).json())
    r = pow_chat(api, widget_key, solution)
    assert (r.status_code, r.json()) == (403, {"error": "Proof of work invalid or expired"})
    assert_nothing_counted_or_spent(pow_channel)


def test_a_challenge_of_another_channel_is_refused(api, llm, pow_channel, widget_key, other_channel_and_key):
    from channels_app.services import channel_set_allowed_origins, publishable_key_issue

    other = other_channel_and_key[0]
    channel_set_allowed_origins(channel=other, allowed_origins=[WIDGET_ORIGIN])
    other_pk = publishable_key_issue(channel=other).key
    solution = solve(get_challenge(api, other_pk).json())
    r = pow_chat(api, widget_key, solution)
    assert (r.status_code, r.json()) == (403, {"error": "Proof of work invalid or expired"})
    assert_nothing_counted_or_spent(pow_channel)


def test_the_preflight_allows_the_header_and_secret_keys_need_no_proof(api, llm, pow_channel, key, widget_key):
    r = preflight(api, "/api/chat", widget_key)
    assert "X-Altcha" in r.headers["Access-Control-Allow-Headers"]
    assert chat(api, key).status_code == 200  # the backend is not a browser
    r = api.get("/api/widget-challenge", headers={"X-API-Key": key})
    assert (r.status_code, r.json()) == (403, {"error": "This endpoint takes a publishable key"})


def test_without_the_switch_no_proof_is_needed(api, llm, channel, widget_key):
    assert widget_chat(api, widget_key).status_code == 200


def test_with_the_counters_unavailable_a_solution_is_refused_with_503_and_nothing_is_spent(
    api, llm, pow_channel, widget_key, monkeypatch
):
    # The solution's single use is remembered by the limit counters: with them down (Redis gone) the chat
    # fails closed like every other counted request, a 503 the widget may retry, never a 500.
    from conversations.engine import counters

    solution = solve(get_challenge(api, widget_key).json())

    async def down(*args):
        raise ConnectionError("the counters are down")

    monkeypatch.setattr(type(counters.backend()), "_add", down)
    r = pow_chat(api, widget_key, solution)
    assert (r.status_code, r.json()) == (503, {"error": "Service temporarily unavailable. Please try again."})
    assert_nothing_counted_or_spent(pow_channel)
    assert not llm.requests
    monkeypatch.undo()
    assert pow_chat(api, widget_key, solution).status_code == 200  # unused, so still good once they are back
