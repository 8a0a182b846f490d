"""`X-Gateway-Overhead-Ms` on API responses, through real HTTP."""

from gateway.testing.api import chat, history


def _overhead(response) -> float:
    return float(response.headers["X-Gateway-Overhead-Ms"])


def test_it_reports_the_gateways_overhead_on_a_chat(api, llm, key):
    r = chat(api, key)
    assert r.status_code == 200
    value = r.headers["X-Gateway-Overhead-Ms"]
    assert value == f"{float(value):.2f}"
    assert _overhead(r) >= 0


def test_it_leaves_the_upstream_wait_out_of_the_overhead(api, llm, key):
    llm.latency = 0.5
    r = chat(api, key)
    assert r.status_code == 200
    assert r.elapsed.total_seconds() >= 0.5
    assert _overhead(r) < 400


def test_it_reports_the_overhead_on_refused_chats_too(api, llm):
    r = chat(api, "amgai_not-a-key")
    assert r.status_code == 401
    assert _overhead(r) >= 0


def test_it_reports_the_overhead_on_history(api, llm, key):
    r = history(api, key)
    assert r.status_code == 200
    assert _overhead(r) >= 0


def test_it_leaves_pages_outside_the_api_alone(api):
    r = api.get("/")
    assert "X-Gateway-Overhead-Ms" not in r.headers
