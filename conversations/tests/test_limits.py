"""Per-minute limit, daily limit and credits, through real HTTP."""

import time

from conversations.engine import limits, windows
from conversations.models import FailedRequest, Message
from gateway.testing.api import chat, history
from gateway.testing.limits import fresh_windows


def test_it_limits_requests_per_minute_with_retry_after(api, llm, channel, key, monkeypatch):
    channel.rate_limit_per_minute = 3
    channel.save()
    fresh_windows(monkeypatch, channel)
    assert [chat(api, key).status_code for _ in range(3)] == [200, 200, 200]
    r = chat(api, key)
    assert (r.status_code, r.json()) == (429, {"error": "Rate limit exceeded"})
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert len(llm.requests) == 3
    channel.refresh_from_db()
    assert channel.credits == 97
    assert FailedRequest.objects.get(channel=channel).status == 429


def test_history_has_its_own_per_minute_counter(api, llm, channel, key, monkeypatch):
    channel.rate_limit_per_minute = 2
    channel.save()
    fresh_windows(monkeypatch, channel)
    assert [chat(api, key).status_code for _ in range(2)] == [200, 200]
    assert [history(api, key).status_code for _ in range(3)] == [200, 200, 429]
    assert history(api, key).json() == {"error": "Rate limit exceeded"}


def test_it_enforces_the_daily_limit_until_utc_midnight(api, llm, channel, key):
    channel.daily_limit = 2
    channel.save()
    assert [chat(api, key).status_code for _ in range(2)] == [200, 200]
    r = chat(api, key)
    assert (r.status_code, r.json()) == (429, {"error": "Daily limit exceeded"})
    assert abs(int(r.headers["Retry-After"]) - windows.seconds_to_utc_midnight(time.time())) <= 2
    assert len(llm.requests) == 2


def test_it_refuses_a_chat_when_credits_are_exhausted(api, llm, channel, key):
    channel.credits = 1
    channel.save()
    assert chat(api, key).status_code == 200
    r = chat(api, key)
    assert r.status_code == 403
    assert "credits" in r.json()["error"]
    assert set(r.json()) == {"error"}
    channel.refresh_from_db()
    assert channel.credits == 0
    assert Message.objects.count() == 2
    assert len(llm.requests) == 1
    # a refusal for credits does not use up the daily quota
    assert limits.daily_used(channel) == 1


def test_history_stays_readable_without_credits(api, llm, channel, key):
    chat(api, key)
    channel.credits = 0
    channel.save()
    assert len(history(api, key).json()["messages"]) == 2


def test_limits_are_checked_in_order_minute_then_day_then_credits(api, llm, channel, key, monkeypatch):
    channel.credits = 0
    channel.daily_limit = 1
    channel.rate_limit_per_minute = 1
    channel.save()
    fresh_windows(monkeypatch, channel)
    assert chat(api, key).status_code == 403  # passes minute and day, no credits
    assert chat(api, key).json() == {"error": "Rate limit exceeded"}
