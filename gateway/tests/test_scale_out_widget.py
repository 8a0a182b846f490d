"""The widget's budget with two gateway processes, one PostgreSQL database and one Redis: the per-address
limits, the widget's shares and the proof of work's single use hold across both.

Each gateway is `uvicorn gateway.asgi:application` in its own process; requests alternate between them
and run in parallel, from one client address (loopback), each with a fresh session id.
"""

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import altcha
import pytest
from django.conf import settings

from gateway.testing import loopback
from gateway.testing.api import UPSTREAM_KEY, WIDGET_ORIGIN
from gateway.testing.limits import wait_for_fresh_clock_minute, wait_for_fresh_minute
from gateway.testing.processes import create_channels, gateway_cluster, manage

pytestmark = [pytest.mark.processes, pytest.mark.postgres, pytest.mark.redis]

FAST = {"rate_limit_per_minute": 1000}  # per-minute limits out of the way where the test is about the day
WIDGET = {
    "share": ({**FAST, "credits": 100}, {"visitor_ip_rate_limit_per_minute": 1000, "visitor_ip_daily_limit": 1000}),
    "address": ({**FAST, "credits": 100}, {"visitor_ip_rate_limit_per_minute": 1000}),  # the defaults' daily limits
    "history": ({"credits": 100}, {}),  # all defaults
    "pow": ({"credits": 100}, {"widget_pow_required": True}),
}

_WIDGET_SETUP = """
import json, sys
from channels_app.models import Channel
from channels_app.services import channel_set_allowed_origins, channel_update, publishable_key_issue
out = []
for spec in json.load(sys.stdin):
    channel = Channel.objects.get(pk=spec.pop("id"))
    if spec["fields"]:
        channel_update(channel=channel, **spec["fields"])
    channel_set_allowed_origins(channel=channel, allowed_origins=[spec["origin"]])
    out.append(publishable_key_issue(channel=channel).key)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, fake_llm_server):
    def setup(env):
        specs = [{"name": name, **channel} for name, (channel, _) in WIDGET.items()]
        channels = dict(zip(WIDGET, create_channels(env, *specs)))
        fields = [{"id": channels[name]["id"], "fields": f, "origin": WIDGET_ORIGIN} for name, (_, f) in WIDGET.items()]
        keys = json.loads(manage(env, "shell", "-c", _WIDGET_SETUP, input=json.dumps(fields)).strip().splitlines()[-1])
        for name, pk in zip(WIDGET, keys):
            channels[name]["pk"] = pk
        return channels

    with gateway_cluster(
        "widget", tmp_path_factory.mktemp("scale-out-widget"), database_settings=settings.DATABASES["default"],
        redis_url=settings.REDIS_URL, setup=setup, LLM_BASE_URL=f"{fake_llm_server.url}/v1", LLM_API_KEY=UPSTREAM_KEY,
        WIDGET_POW_MAX_NUMBER="2000",  # a small puzzle: the Python solver is not what is under test
    ) as cluster:
        cluster.llm = fake_llm_server.app
        yield cluster


@pytest.fixture
def slow_llm(cluster):
    cluster.llm.reset()
    cluster.llm.latency = 0.2
    yield cluster.llm
    cluster.llm.reset()


def new_session_id(cluster, name: str, i: int) -> str:
    """A fresh session id for the channel `name`, as the gateway issues them (the gateways share our SECRET_KEY)."""
    import hashlib

    from conversations.engine import widget_sessions

    nonce = hashlib.sha256(f"fresh-{name}-{i}".encode()).digest()[:16]
    return widget_sessions.signed(cluster.channels[name]["public_id"], nonce)


def widget_chat(url, pk, session_id, headers=None):
    return loopback.post(url + "/api/chat", params={"key": pk}, json={"message": "hi", "session_id": session_id},
                         headers={"Origin": WIDGET_ORIGIN, **(headers or {})}, timeout=30)


def parallel(cluster, count, call):
    urls = [g.url for g in cluster.gateways]
    with ThreadPoolExecutor(max_workers=min(count, 20)) as pool:
        return list(pool.map(lambda i: call(urls[i % 2], i), range(count)))


def statuses(responses) -> dict[int, int]:
    counts: dict[int, int] = {}
    for r in responses:
        counts[r.status_code] = counts.get(r.status_code, 0) + 1
    return counts


def credits(cluster, name) -> int:
    [(left,)] = cluster.database.query("SELECT credits FROM channels_app_channel WHERE id = %s", (cluster.channels[name]["id"],))
    return left


def test_the_widget_share_of_the_credits_is_exact_across_both_gateways(cluster, slow_llm):
    pk = cluster.channels["share"]["pk"]
    responses = parallel(cluster, 40, lambda url, i: widget_chat(url, pk, new_session_id(cluster, "share", i)))
    assert statuses(responses) == {200: 20, 429: 20}
    assert credits(cluster, "share") == 80
    assert len(slow_llm.requests) == 20


def test_one_address_gets_its_daily_chats_over_fresh_sessions_across_both_gateways(cluster, slow_llm):
    pk = cluster.channels["address"]["pk"]
    responses = parallel(cluster, 30, lambda url, i: widget_chat(url, pk, new_session_id(cluster, "address", i)))
    assert statuses(responses) == {200: 20, 429: 10}  # visitor_ip_daily_limit's default
    assert credits(cluster, "address") == 80


def test_widget_history_cannot_lock_the_backend_out_across_both_gateways(cluster, slow_llm):
    slow_llm.latency = 0
    channel = cluster.channels["history"]
    wait_for_fresh_minute(SimpleNamespace(public_id=channel["public_id"]), margin=20)
    wait_for_fresh_clock_minute(margin=20)
    responses = parallel(cluster, 70, lambda url, i: loopback.get(
        url + "/api/history", params={"key": channel["pk"], "session_id": new_session_id(cluster, "history", i)},
        headers={"Origin": WIDGET_ORIGIN}, timeout=30))
    assert statuses(responses) == {200: 12, 429: 58}  # the widget's share of the channel's 60 a minute
    for gateway in cluster.gateways:
        r = loopback.get(gateway.url + "/api/history", params={"session_id": "s"}, headers={"X-API-Key": channel["key"]}, timeout=30)
        assert r.status_code == 200


def test_a_proof_of_work_solution_works_once_across_both_gateways(cluster, slow_llm):
    slow_llm.latency = 0
    pk = cluster.channels["pow"]["pk"]
    challenge = loopback.get(cluster.gateways[0].url + "/api/widget-challenge", params={"key": pk},
                             headers={"Origin": WIDGET_ORIGIN}, timeout=30).json()
    solution = altcha.solve_challenge_v1(challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"])
    payload = {**{k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}, "number": solution.number}
    header = {"X-Altcha": base64.b64encode(json.dumps(payload).encode()).decode()}
    responses = parallel(cluster, 6, lambda url, i: widget_chat(url, pk, new_session_id(cluster, "pow", i), header))
    assert statuses(responses) == {200: 1, 403: 5}
    assert {r.json()["error"] for r in responses if r.status_code == 403} == {"Proof of work already used"}
    assert credits(cluster, "pow") == 99
