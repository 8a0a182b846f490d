"""/v1/chat/completions racing /api/chat on PostgreSQL + Redis: credits, limits and history stay exact.

On the production setup only (the PostgreSQL store and the Redis counters); the in-process
implementations race the same pipeline in test_concurrency.py.
"""

from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from conversations.engine import limits
from conversations.models import Message
from gateway.testing.api import chat
from gateway.testing.limits import fresh_windows

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def race(n, fn):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(fn, range(n)))


def mixed(api, sdk, channel):
    """Even-numbered requests through the OpenAI SDK, odd ones through /api/chat: each its status."""

    def one(i):
        if i % 2:
            return chat(api, channel.key_plaintext, f"m{i}", session_id=f"s{i}").status_code
        try:
            sdk.chat.completions.create(model=channel.model, messages=[{"role": "user", "content": f"m{i}"}], user=f"s{i}")
            return 200
        except openai.APIStatusError as exc:
            return exc.status_code

    return one


def test_20_mixed_chats_against_5_credits_exactly_5_succeed(api, sdk, llm, channel, key):
    channel.credits = 5
    channel.save()
    channel.key_plaintext = key
    llm.latency = 0.2  # all 20 in flight together
    statuses = sorted(race(20, mixed(api, sdk, channel)))
    assert statuses == [200] * 5 + [403] * 15
    channel.refresh_from_db()
    assert channel.credits == 0
    assert Message.objects.count() == 10 and len(llm.requests) == 5
    assert limits.daily_used(channel) == 5


def test_20_mixed_chats_against_a_5_per_minute_limit_exactly_5_pass(api, sdk, llm, channel, key, monkeypatch):
    channel.rate_limit_per_minute = 5
    channel.save()
    channel.key_plaintext = key
    fresh_windows(monkeypatch, channel)
    statuses = sorted(race(20, mixed(api, sdk, channel)))
    assert statuses == [200] * 5 + [429] * 15
    channel.refresh_from_db()
    assert channel.credits == 95


def test_one_idempotency_key_raced_runs_one_chat(api, sdk, llm, channel):
    llm.latency = 0.3

    def one(i):
        try:
            answer = sdk.chat.completions.with_raw_response.create(
                model=channel.model, messages=[{"role": "user", "content": "once"}], user="s-once",
                extra_headers={"Idempotency-Key": "raced-1"},
            )
            return 200, answer.parse().choices[0].message.content
        except openai.APIStatusError as exc:
            return exc.status_code, exc.body["message"]

    outcomes = race(6, one)
    assert (200, "Echo: once") in outcomes
    assert all(o == (200, "Echo: once") or o == (409, "A request with this Idempotency-Key is still in progress") for o in outcomes)
    assert len(llm.requests) == 1
    channel.refresh_from_db()
    assert channel.credits == 99
