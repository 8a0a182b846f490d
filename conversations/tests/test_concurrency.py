"""Parallel chats through real HTTP: money, limits and messages stay exact."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from conversations.engine import limits
from conversations.models import Message, Session, UsageDay
from gateway.testing.api import chat
from gateway.testing.limits import fresh_windows
from gateway.testing.rollups import latency_counts, usage_totals


def parallel(n, fn):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(fn, range(n)))


@pytest.mark.live  # concurrent clients on a real server
def test_20_parallel_chats_against_5_credits_exactly_5_succeed(api, llm, channel, key):
    channel.credits = 5
    channel.save()
    llm.latency = 0.2  # keep all 20 in flight together
    responses = parallel(20, lambda i: chat(api, key, f"m{i}", session_id=f"s{i}"))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [403] * 15
    channel.refresh_from_db()
    assert channel.credits == 0
    assert Message.objects.count() == 10
    assert len(llm.requests) == 5  # refused chats never reach the provider
    assert limits.daily_used(channel) == 5
    usage = usage_totals(channel)  # the roll-up counts every one, exactly, over its shards
    assert (usage["answered"], usage["refused"], usage["limited"], usage["errors"]) == (5, 15, 0, 0)


@pytest.mark.live  # concurrent clients on a real server
def test_20_parallel_chats_against_a_5_per_minute_limit_exactly_5_pass(api, llm, channel, key, monkeypatch):
    channel.rate_limit_per_minute = 5
    channel.save()
    fresh_windows(monkeypatch, channel)
    responses = parallel(20, lambda i: chat(api, key, f"m{i}", session_id=f"s{i}"))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [429] * 15
    assert all(r.json() == {"error": "Rate limit exceeded"} for r in responses if r.status_code == 429)
    channel.refresh_from_db()
    assert channel.credits == 95
    usage = usage_totals(channel)
    assert (usage["answered"], usage["limited"], usage["refused"]) == (5, 15, 0)


@pytest.mark.live  # concurrent clients on a real server
def test_10_parallel_chats_on_one_new_session_store_all_20_messages(api, llm, channel, key):
    llm.latency = 0.1
    responses = parallel(10, lambda i: chat(api, key, f"m{i}", session_id="together"))
    assert [r.status_code for r in responses] == [200] * 10
    assert Session.objects.count() == 1
    session = Session.objects.get()
    contents = list(session.messages.values_list("role", "content"))
    assert len(contents) == 20
    # each exchange is stored as an adjacent pair: user message, then its reply
    for (role_q, q), (role_a, a) in zip(contents[::2], contents[1::2]):
        assert (role_q, role_a) == ("user", "assistant")
        assert a == f"Echo: {q}"
    assert sorted(q for _, q in contents[::2]) == sorted(f"m{i}" for i in range(10))
    channel.refresh_from_db()
    assert channel.credits == 90


@pytest.mark.live  # concurrent clients on a real server
def test_parallel_failures_give_every_credit_back(api, llm, channel, key):
    channel.credits = 5
    channel.save()
    llm.mode, llm.status = "status", 502
    responses = parallel(10, lambda i: chat(api, key, f"m{i}", session_id=f"s{i}"))
    assert all(r.status_code in (500, 403) for r in responses)
    channel.refresh_from_db()
    assert channel.credits == 5
    assert not Message.objects.exists()


@pytest.mark.live  # concurrent clients on a real server
def test_a_busy_channels_parallel_chats_spread_over_the_roll_up_shards_and_add_up_exactly(api, llm, channel, key):
    """One channel, a new session per chat, all in flight together: every chat is paid, stored and counted once,
    and the day's counts are spread over several shard rows instead of one row every chat waits for."""
    channel.credits = 30
    channel.save()
    llm.latency = 0.1
    responses = parallel(24, lambda i: chat(api, key, f"m{i}", session_id=f"visitor-{i}"))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 24
    channel.refresh_from_db()
    assert channel.credits == 6
    assert Message.objects.filter(session__channel=channel).count() == 48
    usage = usage_totals(channel)
    assert (usage["answered"], usage["limited"], usage["refused"], usage["errors"]) == (24, 0, 0, 0)
    assert sum(latency_counts(channel).values()) == 24
    assert UsageDay.objects.filter(channel=channel).count() > 1  # 24 chats on one of 8 shards: 1 in 8**23
