"""Two gateway processes on two ports, one PostgreSQL database and one Redis: limits, credits and sessions stay exact.

Each gateway is `uvicorn gateway.asgi:application` in its own process, as on two
app servers; requests are split between them and run in parallel.
"""

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import pytest
from django.conf import settings

from gateway.testing import loopback
from gateway.testing.api import UPSTREAM_KEY
from gateway.testing.limits import wait_for_fresh_minute
from gateway.testing.processes import create_channels, gateway_cluster, manage

pytestmark = [pytest.mark.processes, pytest.mark.postgres, pytest.mark.redis]

CHANNELS = {
    "credits": {"credits": 5},
    "minute": {"rate_limit_per_minute": 5},
    "daily": {"daily_limit": 5},
    "session": {},
    "parallel_session": {},
    "revoked": {},
    "deactivated": {},
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, fake_llm_server):
    def setup(env):
        specs = [{"name": name, "credits": 1000, **spec} for name, spec in CHANNELS.items()]
        return dict(zip(CHANNELS, create_channels(env, *specs)))

    with gateway_cluster(
        "scaleout", tmp_path_factory.mktemp("scale-out-scaleout"), database_settings=settings.DATABASES["default"],
        redis_url=settings.REDIS_URL, setup=setup, LLM_BASE_URL=f"{fake_llm_server.url}/v1", LLM_API_KEY=UPSTREAM_KEY,
    ) as cluster:
        cluster.llm = fake_llm_server.app
        yield cluster


def chat(url: str, key: str, message: str, session_id: str) -> httpx.Response:
    return loopback.post(
        url + "/api/chat", json={"message": message, "session_id": session_id}, headers={"X-API-Key": key}, timeout=30
    )


def history(url: str, key: str, session_id: str) -> list[tuple[str, str]]:
    r = loopback.get(url + "/api/history", params={"session_id": session_id}, headers={"X-API-Key": key}, timeout=30)
    assert r.status_code == 200, r.text
    return [(m["role"], m["content"]) for m in r.json()["messages"]]


def parallel_chats(cluster, key: str, count: int, *, session_id=None) -> list[httpx.Response]:
    """`count` chats at once, alternating between the two gateways."""
    urls = [g.url for g in cluster.gateways]
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [
            pool.submit(chat, urls[i % 2], key, f"m{i}", session_id or f"s{i}") for i in range(count)
        ]
        return [f.result() for f in futures]


def statuses(responses) -> dict[int, int]:
    counts: dict[int, int] = {}
    for r in responses:
        counts[r.status_code] = counts.get(r.status_code, 0) + 1
    return counts


def stored(cluster, name: str) -> tuple[int, int]:
    """(credits left, messages stored) for a channel, read from the shared database."""
    channel_id = cluster.channels[name]["id"]
    [(credits,)] = cluster.database.query("SELECT credits FROM channels_app_channel WHERE id = %s", (channel_id,))
    [(messages,)] = cluster.database.query(
        "SELECT COUNT(*) FROM conversations_message m JOIN conversations_session s ON m.session_id = s.id "
        "WHERE s.channel_id = %s", (channel_id,)
    )
    return credits, messages


@pytest.fixture
def slow_llm(cluster):
    """A provider slow enough that every chat of a burst is in flight at once."""
    cluster.llm.reset()
    cluster.llm.latency = 0.3
    yield cluster.llm
    cluster.llm.reset()


def test_credits_are_spent_exactly_across_both_gateways(cluster, slow_llm):
    responses = parallel_chats(cluster, cluster.channels["credits"]["key"], 20)
    assert statuses(responses) == {200: 5, 403: 15}
    assert stored(cluster, "credits") == (0, 10)
    assert len(slow_llm.requests) == 5  # the refused ones never reached the provider


def test_the_per_minute_limit_is_one_counter_across_both_gateways(cluster, slow_llm):
    wait_for_fresh_minute(SimpleNamespace(public_id=cluster.channels["minute"]["public_id"]), margin=15)
    responses = parallel_chats(cluster, cluster.channels["minute"]["key"], 20)
    assert statuses(responses) == {200: 5, 429: 15}
    assert {r.json()["error"] for r in responses if r.status_code == 429} == {"Rate limit exceeded"}
    assert stored(cluster, "minute") == (995, 10)


def test_the_daily_limit_is_one_counter_across_both_gateways(cluster, slow_llm):
    responses = parallel_chats(cluster, cluster.channels["daily"]["key"], 20)
    assert statuses(responses) == {200: 5, 429: 15}
    assert {r.json()["error"] for r in responses if r.status_code == 429} == {"Daily limit exceeded"}
    assert stored(cluster, "daily") == (995, 10)


def test_a_session_alternating_between_gateways_keeps_one_ordered_history(cluster, slow_llm):
    slow_llm.latency = 0
    key = cluster.channels["session"]["key"]
    for i in range(6):
        r = chat(cluster.gateways[i % 2].url, key, f"turn {i}", "shared")
        assert r.status_code == 200
        # The provider saw everything said so far, whichever gateway stored it.
        assert [m["content"] for m in slow_llm.requests[-1]["json"]["messages"] if m["role"] == "user"] == [
            f"turn {j}" for j in range(i + 1)
        ]
    expected = [pair for i in range(6) for pair in (("user", f"turn {i}"), ("assistant", f"Echo: turn {i}"))]
    assert history(cluster.gateways[0].url, key, "shared") == expected
    assert history(cluster.gateways[1].url, key, "shared") == expected


def test_parallel_chats_on_one_session_through_both_gateways_keep_each_question_next_to_its_answer(
    cluster, slow_llm
):
    key = cluster.channels["parallel_session"]["key"]
    assert statuses(parallel_chats(cluster, key, 10, session_id="busy")) == {200: 10}
    messages = history(cluster.gateways[1].url, key, "busy")
    assert len(messages) == 20
    for (role_q, question), (role_a, answer) in zip(messages[::2], messages[1::2]):
        assert (role_q, role_a, answer) == ("user", "assistant", f"Echo: {question}")
    assert sorted(q for _, q in messages[::2]) == sorted(f"m{i}" for i in range(10))
    assert stored(cluster, "parallel_session") == (990, 20)


def in_a_third_process(cluster, code: str) -> None:
    """Run Django code against the cluster's database in its own process, as the dashboard or admin would."""
    manage(cluster.env, "shell", "-c", code)


def test_a_key_revoked_elsewhere_stops_on_both_gateways_at_the_next_request(cluster, slow_llm):
    slow_llm.latency = 0
    channel = cluster.channels["revoked"]
    for gateway in cluster.gateways:  # each gateway now holds the key in its process's key cache
        assert chat(gateway.url, channel["key"], "hi", "s").status_code == 200
    in_a_third_process(
        cluster,
        "from channels_app.models import ApiKey; from channels_app.services import api_key_revoke; "
        f"[api_key_revoke(api_key=k) for k in ApiKey.objects.filter(channel_id={channel['id']})]",
    )
    for gateway in cluster.gateways:
        r = chat(gateway.url, channel["key"], "hi", "s")
        assert (r.status_code, r.json()) == (401, {"error": "Invalid API key"})


def test_a_channel_deactivated_elsewhere_is_refused_by_both_gateways_then_served_once_reactivated(cluster, slow_llm):
    slow_llm.latency = 0
    channel = cluster.channels["deactivated"]
    switch = (
        "from channels_app.models import Channel; from channels_app.services import channel_update; "
        f"channel_update(channel=Channel.objects.get(pk={channel['id']}), is_active={{}})"
    )
    for gateway in cluster.gateways:
        assert chat(gateway.url, channel["key"], "hi", "s").status_code == 200
    in_a_third_process(cluster, switch.format(False))
    for gateway in cluster.gateways:
        assert chat(gateway.url, channel["key"], "hi", "s").status_code == 403
    in_a_third_process(cluster, switch.format(True))
    for gateway in cluster.gateways:
        assert chat(gateway.url, channel["key"], "hi", "s").status_code == 200
