"""GET /metrics: Prometheus text behind a token or an address allow-list, through real HTTP."""

import re

import pytest

from gateway.testing.api import chat
from gateway.testing.waiting import wait_until

TOKEN = "metrics-test-token-0123456789"


def _sample(text: str, name: str, **labels) -> float:
    """The value of one sample line, 0.0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        got = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
        if got == wanted:
            return float(match.group(3))
    return 0.0


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW_IPS = []
    return TOKEN


def _scrape(api, token=TOKEN):
    return api.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def test_it_is_not_found_when_neither_a_token_nor_an_allow_list_is_set(api, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW_IPS = []
    r = _scrape(api, "anything")
    assert r.status_code == 404
    assert r.json() == {"error": "Not found"}


def test_it_refuses_a_missing_token(api, metrics_token):
    r = api.get("/metrics")
    assert r.status_code == 403
    assert r.json() == {"error": "Forbidden"}


def test_it_refuses_a_wrong_token(api, metrics_token):
    r = _scrape(api, "wrong-token")
    assert r.status_code == 403
    assert r.json() == {"error": "Forbidden"}


def test_it_serves_prometheus_text_for_the_token(api, metrics_token):
    r = _scrape(api)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    for name in (
        "gateway_requests_total",
        "gateway_request_duration_seconds",
        "gateway_upstream_duration_seconds",
        "gateway_overhead_seconds",
        "gateway_requests_in_flight",
    ):
        assert f"# TYPE {name} " in r.text


def test_it_serves_an_allowed_address_without_a_token(api, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW_IPS = ["10.0.0.0/8", "127.0.0.1"]
    assert api.get("/metrics").status_code == 200


def test_it_refuses_an_address_outside_the_allow_list(api, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW_IPS = ["10.0.0.0/8"]
    r = api.get("/metrics")
    assert r.status_code == 403
    assert r.json() == {"error": "Forbidden"}


def test_it_counts_chats_by_endpoint_and_status(api, llm, key, metrics_token):
    before = _scrape(api).text
    assert chat(api, key).status_code == 200
    assert chat(api, "amgai_not-a-key").status_code == 401
    after = _scrape(api).text
    for status in ("200", "401"):
        name, labels = "gateway_requests_total", {"endpoint": "chat", "status": status}
        assert _sample(after, name, **labels) == _sample(before, name, **labels) + 1
    count = "gateway_request_duration_seconds_count"
    assert _sample(after, count, endpoint="chat") == _sample(before, count, endpoint="chat") + 2


def test_it_times_each_upstream_call(api, llm, key, metrics_token):
    before = _sample(_scrape(api).text, "gateway_upstream_duration_seconds_count")
    chat(api, key)
    after = _sample(_scrape(api).text, "gateway_upstream_duration_seconds_count")
    assert after == before + 1


def test_it_shows_the_scrape_itself_in_flight(api, metrics_token):
    text = _scrape(api).text
    assert _sample(text, "gateway_requests_in_flight", endpoint="metrics") == 1
    assert _sample(text, "gateway_requests_in_flight", endpoint="chat") == 0


def _open_stream(api, key, llm, session_id):
    llm.token_delay = 0.5  # the stream stays open between its tokens
    stream = api.stream("POST", "/api/chat", headers={"X-API-Key": key},
                        json={"message": "one two three four five", "session_id": session_id, "stream": True})
    response = stream.__enter__()
    assert response.status_code == 200
    chunks = response.iter_bytes()
    next(chunks)  # the first event has arrived: the view has long returned its response
    return stream, chunks


@pytest.mark.live  # a body streamed over a socket, and a client that goes away
def test_a_streamed_chat_is_in_flight_until_its_stream_ends(api, llm, key, metrics_token):
    stream, chunks = _open_stream(api, key, llm, "in-flight-1")
    assert _sample(_scrape(api).text, "gateway_requests_in_flight", endpoint="chat") == 1
    for _ in chunks:
        pass
    stream.__exit__(None, None, None)
    assert wait_until(lambda: _sample(_scrape(api).text, "gateway_requests_in_flight", endpoint="chat") == 0)


@pytest.mark.live
def test_a_streamed_chat_whose_client_goes_away_is_no_longer_in_flight(api, llm, key, metrics_token):
    stream, _ = _open_stream(api, key, llm, "in-flight-2")
    assert _sample(_scrape(api).text, "gateway_requests_in_flight", endpoint="chat") == 1
    stream.__exit__(None, None, None)  # closes the connection mid-stream
    assert wait_until(lambda: _sample(_scrape(api).text, "gateway_requests_in_flight", endpoint="chat") == 0)
