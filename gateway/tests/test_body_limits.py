"""Oversized bodies are refused at the ASGI edge, chunked or not, without being read into memory or onto disk."""

import httpx
import pytest
from django.conf import settings

from conversations.models import Message
from gateway.testing import loopback
from gateway.testing.processes import GatewayProcess, create_channels, gateway_env, sqlite_database

MB = 1024 * 1024


def chunked(total: int, chunk: int = 64 * 1024, sent: list | None = None):
    """A body of `total` bytes with no Content-Length: httpx sends it chunked. Counts what was taken in `sent`."""
    def generate():
        left = total
        while left > 0:
            part = b" " * min(chunk, left)
            left -= len(part)
            if sent is not None:
                sent.append(len(part))
            yield part
    return generate()


def post(base_url: str, content, key: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json", **({"X-API-Key": key} if key else {})}
    return loopback.post(base_url + "/api/chat", content=content, headers=headers, timeout=30)


def test_a_chunked_body_over_the_cap_is_refused_before_authentication(gateway_server, transactional_db):
    r = post(gateway_server.url, chunked(10 * MB))
    assert r.status_code == 413
    assert r.json() == {"error": f"Request body is too large (at most {settings.API_MAX_BODY_BYTES} bytes)"}
    assert "content-length" not in r.request.headers  # it really went chunked


def test_a_declared_content_length_over_the_cap_is_refused(gateway_server, transactional_db):
    r = post(gateway_server.url, b"{" + b" " * (settings.REQUEST_MAX_BODY_BYTES + 10) + b"}")
    assert r.status_code == 413


@pytest.mark.live  # a chunked body sent over a socket
def test_a_chunked_body_over_the_api_limit_still_gets_the_api_s_answers(api, llm, channel, key):
    # Under the edge cap, the API's own rules apply in their order: the key first, then the size.
    over_api_limit = settings.API_MAX_BODY_BYTES + 1
    assert post(str(api.base_url).rstrip("/"), chunked(over_api_limit)).status_code == 401
    r = post(str(api.base_url).rstrip("/"), chunked(over_api_limit), key=key)
    assert r.status_code == 413
    assert Message.objects.count() == 0 and len(llm.requests) == 0


@pytest.mark.live  # a chunked body sent over a socket
def test_a_small_chunked_body_is_served_whole(api, llm, channel, key):
    body = b'{"message": "chunked hello", "session_id": "s"}'
    r = post(str(api.base_url).rstrip("/"), iter([body[:10], body[10:]]), key=key)
    assert r.status_code == 200
    assert r.json()["reply"] == "Echo: chunked hello"


def test_other_pages_have_the_same_cap(gateway_server, transactional_db):
    r = loopback.post(gateway_server.url + "/accounts/login/", content=chunked(10 * MB), timeout=30)
    assert (r.status_code, r.text) == (413, "413 Payload too large")


@pytest.fixture
def served(tmp_path):
    """The production entry point in its own process, so its memory can be measured."""
    env = gateway_env(DATABASE_URL=sqlite_database(tmp_path), REDIS_URL="")
    [channel] = create_channels(env, {})
    server = GatewayProcess(env, log_path=tmp_path / "gateway.log").start()
    yield server, channel["key"]
    server.stop()


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_an_endless_upload_is_cut_off_with_bounded_memory(served):
    server, key = served
    assert post(server.url, b'{"message": "warm up", "session_id": "s"}', key=key).status_code == 200
    peak_before = _peak_rss_kib(server.pid)

    sent: list[int] = []
    try:
        outcome = post(server.url, chunked(200 * MB, sent=sent), key=key).status_code
    except httpx.TransportError:
        outcome = "closed"  # past the drain allowance the server hangs up: also a refusal
    assert outcome in (413, "closed")
    assert sum(sent) < 40 * MB  # it stopped reading long before the end

    assert (_peak_rss_kib(server.pid) - peak_before) < 16 * 1024  # KiB: nowhere near the 200 MB sent
    assert post(server.url, b'{"message": "still here", "session_id": "s"}', key=key).status_code == 200


def v1_chat(api, key, conversation: list[dict]) -> httpx.Response:
    body = {"model": "openai/gpt-oss-120b", "messages": conversation}
    return api.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})


def test_an_agents_long_conversation_fits_on_v1(api, llm, channel, key):
    """A /v1 client resends its whole conversation, tool results included: 300 KiB of it is taken, far past /api's
    64 KiB, and what does not fit the model is trimmed (docs/api.md), not refused."""
    page = "A fetched page, as a tool returns it. " * 8_000  # ~300 KiB
    conversation = [
        {"role": "user", "content": "Summarise the page."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "fetch", "arguments": '{"url": "https://a.example/"}'}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": page},
        {"role": "user", "content": "And in one line?"},
    ]
    assert len(page) > settings.API_MAX_BODY_BYTES * 4
    r = v1_chat(api, key, conversation)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == "Echo: And in one line?"


def test_a_v1_body_over_its_own_limit_is_refused_in_openai_s_shape(api, llm, channel, key):
    r = v1_chat(api, key, [{"role": "user", "content": "x" * (settings.V1_MAX_BODY_BYTES + 1)}])
    assert r.status_code == 413
    assert r.json()["error"]["message"] == f"Request body is too large (at most {settings.V1_MAX_BODY_BYTES} bytes)"
    assert r.json()["error"]["code"] == "request_too_large"
    assert Message.objects.count() == 0 and len(llm.requests) == 0


def test_api_keeps_its_smaller_limit(api, llm, channel, key):
    """/api's contract is 64 KiB (docs/api.md): the larger /v1 limit does not widen it."""
    assert settings.API_MAX_BODY_BYTES < settings.V1_MAX_BODY_BYTES
    r = api.post("/api/chat", json={"message": "hi", "session_id": "s", "metadata": {"pad": "x" * settings.API_MAX_BODY_BYTES}},
                 headers={"X-API-Key": key})
    assert r.status_code == 413
    assert r.json() == {"error": f"Request body is too large (at most {settings.API_MAX_BODY_BYTES} bytes)"}
