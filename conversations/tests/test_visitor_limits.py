"""Per-visitor limits on publishable keys: exact under parallel requests, and free for the channel when refusing."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conversations.engine import limits, windows
from conversations.models import Message
from gateway.testing.api import WIDGET_ORIGIN, chat, cors_headers, widget_chat, widget_history
from gateway.testing.limits import fresh_windows


def parallel(n, fn):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(fn, range(n)))


@pytest.mark.live  # concurrent clients on a real server
def test_one_session_gets_exactly_its_per_minute_chats_under_parallel_requests(api, llm, channel, widget_key, monkeypatch):
    channel.visitor_rate_limit_per_minute = 5
    channel.save()
    fresh_windows(monkeypatch)
    llm.latency = 0.1
    responses = parallel(15, lambda i: widget_chat(api, widget_key, f"m{i}", session_id="visitor"))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [429] * 10
    for r in responses:
        if r.status_code == 429:
            assert r.json() == {"error": "Rate limit exceeded"}
            assert 1 <= int(r.headers["Retry-After"]) <= 60
            assert cors_headers(r)["access-control-allow-origin"] == WIDGET_ORIGIN  # the widget can read it
    channel.refresh_from_db()
    assert channel.credits == 95
    assert limits.daily_used(channel) == 5
    assert len(llm.requests) == 5
    assert widget_chat(api, widget_key, session_id="another visitor").status_code == 200


def test_a_session_stops_at_its_daily_limit(api, llm, channel, widget_key):
    channel.visitor_daily_limit = 3
    channel.save()
    assert [widget_chat(api, widget_key, f"m{i}").status_code for i in range(3)] == [200] * 3
    r = widget_chat(api, widget_key)
    assert (r.status_code, r.json()) == (429, {"error": "Daily limit exceeded"})
    assert abs(int(r.headers["Retry-After"]) - windows.seconds_to_utc_midnight(time.time())) <= 2
    channel.refresh_from_db()
    assert channel.credits == 97
    assert widget_chat(api, widget_key, session_id="v-2").status_code == 200


@pytest.mark.live  # concurrent clients on a real server
def test_one_address_gets_exactly_its_daily_chats_over_any_number_of_sessions(api, llm, channel, widget_key):
    channel.visitor_ip_daily_limit = 4
    channel.save()
    responses = parallel(12, lambda i: widget_chat(api, widget_key, f"m{i}", session_id=f"fresh-{i}"))
    assert sorted(r.status_code for r in responses) == [200] * 4 + [429] * 8
    assert all(r.json() == {"error": "Daily limit exceeded"} for r in responses if r.status_code == 429)
    channel.refresh_from_db()
    assert channel.credits == 96
    assert Message.objects.count() == 8
    assert len(llm.requests) == 4


def test_history_has_its_own_per_session_minute_counter(api, llm, channel, widget_key, monkeypatch):
    channel.visitor_rate_limit_per_minute = 2
    channel.save()
    fresh_windows(monkeypatch)
    assert [widget_chat(api, widget_key, f"m{i}").status_code for i in range(2)] == [200, 200]
    assert [widget_history(api, widget_key).status_code for _ in range(3)] == [200, 200, 429]


def test_a_refused_visitor_costs_the_channels_own_minute_nothing(api, llm, channel, key, widget_key, monkeypatch):
    channel.rate_limit_per_minute = 2
    channel.visitor_rate_limit_per_minute = 1
    channel.save()
    fresh_windows(monkeypatch, channel)
    assert [widget_chat(api, widget_key).status_code for _ in range(4)] == [200, 429, 429, 429]
    assert chat(api, key).status_code == 200  # the channel's minute counted only the visitor's one chat


def test_secret_keys_have_no_visitor_limits(api, llm, channel, key, widget_key):
    channel.visitor_rate_limit_per_minute = channel.visitor_daily_limit = channel.visitor_ip_daily_limit = 1
    channel.save()
    assert [chat(api, key).status_code for _ in range(3)] == [200] * 3
