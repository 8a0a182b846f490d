"""One tenant cannot break the others: a channel whose requests the provider refuses (4xx) never opens
a circuit breaker, and a model the provider is failing (5xx) only fails fast for that model.

Each test attacks through real HTTP: the gateway on loopback calls the fake OpenAI-compatible
provider (gateway/testing/fake_llm.py), which answers the attacker's model with an error status.
"""

import pytest

from channels_app.providers import resilience
from channels_app.services import channel_create
from conversations.models import Message
from gateway.testing import loopback
from gateway.testing.api import chat, chat_stream
from gateway.testing.waiting import wait_until

AI_ERROR = {"error": "AI service error. Please try again."}
ATTACKER_MODEL = "openai/gpt-oss-120b"
VICTIM_MODEL = "openai/gpt-oss-20b"


@pytest.fixture
def attacker(owner):
    channel, issued = channel_create(owner=owner, name="Attacker", model=ATTACKER_MODEL, credits=100)
    return channel, issued.plaintext


@pytest.fixture
def victim(outsider):
    channel, issued = channel_create(owner=outsider, name="Victim", model=VICTIM_MODEL, credits=100)
    return channel, issued.plaintext


def models_called(llm) -> list[str]:
    return [r["json"]["model"] for r in llm.requests]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_refused_requests_on_one_channel_never_fail_another_channels_chats(api, llm, attacker, victim, settings, status):
    # The default threshold (5): the attack of the issue, five refused chats and more.
    settings.LLM_BREAKER_THRESHOLD = 5
    llm.failing_models, llm.status = {ATTACKER_MODEL}, status
    _, attacker_key = attacker
    for i in range(8):
        assert chat(api, attacker_key, f"too long {i}").json() == AI_ERROR
    # Every one of them reached the provider: a refused request is no upstream fault, even for its own model.
    assert models_called(llm) == [ATTACKER_MODEL] * 8

    victim_channel, victim_key = victim
    r = chat(api, victim_key, "Hello from the victim", session_id="v-1")
    assert (r.status_code, r.json()["reply"]) == (200, "Echo: Hello from the victim")
    assert models_called(llm)[-1] == VICTIM_MODEL  # the provider saw the victim's call
    r, events = chat_stream(api, victim_key, "and streamed", session_id="v-1")
    assert events[-1] == ("done", {"reply": "Echo: and streamed", "session_id": "v-1", "sources": []})
    victim_channel.refresh_from_db()
    assert victim_channel.credits == 98


def test_refused_streams_never_fail_another_channels_chats(api, llm, attacker, victim, settings):
    settings.LLM_BREAKER_THRESHOLD = 5
    llm.failing_models, llm.status = {ATTACKER_MODEL}, 400
    _, attacker_key = attacker
    for i in range(6):
        _, events = chat_stream(api, attacker_key, f"too long {i}")
        assert events[-1] == ("error", AI_ERROR)
    assert len(llm.requests) == 6
    _, victim_key = victim
    r = chat(api, victim_key, "still there?", session_id="v-1")
    assert (r.status_code, r.json()["reply"]) == (200, "Echo: still there?")


def test_refused_requests_on_the_same_model_do_not_fail_other_channels_on_it(api, llm, owner, outsider, settings):
    # Same upstream, same model: a channel whose prompts the provider refuses (here: every request
    # that carries its long system prompt) cannot open the breaker its neighbours on that model share.
    settings.LLM_BREAKER_THRESHOLD = 3
    _, bad = channel_create(owner=owner, name="Bad", model=VICTIM_MODEL, credits=100)
    good_channel, good = channel_create(owner=outsider, name="Good", model=VICTIM_MODEL, credits=100)
    llm.fail_first, llm.status = 6, 400  # the next six calls are refused (context too long)
    for i in range(6):
        assert chat(api, bad.plaintext, f"huge {i}").json() == AI_ERROR
    r = chat(api, good.plaintext, "hi", session_id="g-1")
    assert (r.status_code, r.json()["reply"]) == (200, "Echo: hi")
    assert len(llm.requests) == 7


def test_a_failing_model_opens_only_its_own_breaker(api, llm, attacker, victim, settings):
    settings.LLM_BREAKER_THRESHOLD, settings.LLM_MAX_RETRIES = 3, 0
    llm.failing_models, llm.status = {ATTACKER_MODEL}, 503
    _, attacker_key = attacker
    for i in range(3):
        assert chat(api, attacker_key, f"x{i}").json() == AI_ERROR
    assert chat(api, attacker_key, "fails fast").json() == AI_ERROR
    assert models_called(llm) == [ATTACKER_MODEL] * 3  # the open breaker kept the 4th call home

    _, victim_key = victim
    r = chat(api, victim_key, "other model", session_id="v-1")
    assert (r.status_code, r.json()["reply"]) == (200, "Echo: other model")
    assert models_called(llm)[-1] == VICTIM_MODEL
    assert Message.objects.filter(role="assistant").count() == 1


def test_a_timing_out_model_opens_only_its_own_breaker(api, llm, attacker, victim, settings):
    # Timeouts are upstream faults: they count, but only for the model they happened on.
    settings.LLM_BREAKER_THRESHOLD, settings.LLM_MAX_RETRIES, settings.LLM_READ_TIMEOUT = 2, 0, 0.3
    llm.mode = "hang"
    _, attacker_key = attacker
    for i in range(2):
        assert chat(api, attacker_key, f"x{i}").json() == AI_ERROR
    assert chat(api, attacker_key, "fails fast").json() == AI_ERROR
    assert len(llm.requests) == 2  # the attacker's model is cut off...
    llm.mode = "ok"
    _, victim_key = victim
    r = chat(api, victim_key, "other model", session_id="v-1")
    assert (r.status_code, r.json()["reply"]) == (200, "Echo: other model")  # ...the victim's is not


def test_a_refused_probe_does_not_wedge_a_half_open_breaker(api, llm, attacker, settings):
    settings.LLM_BREAKER_THRESHOLD, settings.LLM_MAX_RETRIES, settings.LLM_BREAKER_COOLDOWN = 1, 0, 0.3
    _, attacker_key = attacker
    llm.mode, llm.status = "status", 500
    chat(api, attacker_key)
    assert wait_until(lambda: resilience.breaker_for(settings.LLM_BASE_URL, ATTACKER_MODEL).state == "half-open")
    llm.mode, llm.status = "status", 400
    assert chat(api, attacker_key).json() == AI_ERROR  # the probe is refused: it proves nothing either way
    llm.mode = "ok"
    assert chat(api, attacker_key).status_code == 200  # the next call may probe, and closes the breaker
    assert resilience.breaker_for(settings.LLM_BASE_URL, ATTACKER_MODEL).state == "closed"


def test_a_visitor_who_leaves_during_the_probe_does_not_wedge_the_breaker(gateway_server, api, llm, attacker, settings):
    # A half-open breaker lets one probe through; a client that hangs up mid-probe cancels it. Before,
    # the probe slot stayed taken and the model failed fast for every channel, for good.
    import httpx

    settings.LLM_BREAKER_THRESHOLD, settings.LLM_MAX_RETRIES, settings.LLM_BREAKER_COOLDOWN = 1, 0, 0.3
    channel, attacker_key = attacker
    llm.mode, llm.status = "status", 500
    assert chat(api, attacker_key).json() == AI_ERROR  # opens the breaker
    breaker = resilience.breaker_for(settings.LLM_BASE_URL, ATTACKER_MODEL)
    assert wait_until(lambda: breaker.state == "half-open")
    llm.mode, llm.latency = "ok", 1.0
    with loopback.Client(base_url=gateway_server.url, timeout=0.3) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.post("/api/chat", json={"message": "probe", "session_id": "gone"}, headers={"X-API-Key": attacker_key})
    assert wait_until(lambda: not breaker.probing)  # the gateway notices the hang-up and cancels the probe
    llm.latency = 0
    r = chat(api, attacker_key, "after the probe")
    assert (r.status_code, r.json()["reply"]) == (200, "Echo: after the probe")
