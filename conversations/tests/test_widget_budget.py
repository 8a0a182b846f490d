"""The widget's budget. One visitor cannot drain a channel, and widget traffic
cannot lock the backend out. Every test attacks through real HTTP, as a script with the public
publishable key would: it sets the Origin header itself (forged, from no page) and makes up a fresh
session id for every request.
"""

import itertools

from conversations.engine import limits
from gateway.testing.api import chat, history, widget_chat, widget_history
from gateway.testing.limits import fresh_windows

_fresh = itertools.count()


def new_session_id(api, widget_key) -> str:
    """A session id the attacker has never used (the one place tests make them: see the module docstring)."""
    return f"fresh-{next(_fresh)}"


def loop_widget_chats(api, widget_key, count: int) -> list[int]:
    return [widget_chat(api, widget_key, f"m{i}", session_id=new_session_id(api, widget_key)).status_code for i in range(count)]


def statuses(codes) -> dict[int, int]:
    return {code: list(codes).count(code) for code in sorted(set(codes))}


def test_one_address_with_fresh_sessions_spends_at_most_the_widget_share_of_a_new_channels_credits(api, llm, channel, key, widget_key):
    """The issue's attack: a new channel's defaults (100 credits), one address looping chats with a fresh
    session id each time. Only the channel's per-minute rate is raised here (and the per-address minute),
    standing in for "waiting out each 429": the money bound under test is the daily one, at its defaults."""
    assert channel.credits == 100 and channel.daily_limit == 1000
    channel.rate_limit_per_minute = channel.visitor_ip_rate_limit_per_minute = 1000
    channel.save()
    codes = loop_widget_chats(api, widget_key, 40)
    assert codes[:20] == [200] * 20
    assert statuses(codes[20:]) == {429: 20}
    r = widget_chat(api, widget_key, session_id=new_session_id(api, widget_key))
    assert (r.status_code, r.json()) == (429, {"error": "Daily limit exceeded"})
    channel.refresh_from_db()
    assert channel.credits == 80  # the widget's share (20 %) at most; the backend keeps the rest
    assert len(llm.requests) == 20
    assert chat(api, key).status_code == 200
    assert (channel.visitor_ip_daily_limit, channel.widget_share_percent) == (20, 20)  # the defaults did it


def test_the_widget_share_of_the_credits_holds_whatever_the_per_address_limits(api, llm, channel, widget_key):
    """Many addresses (here: per-address limits raised past the credits) still get only the widget's share."""
    channel.rate_limit_per_minute = channel.visitor_ip_rate_limit_per_minute = 1000
    channel.visitor_ip_daily_limit = channel.visitor_daily_limit = 1000
    channel.widget_share_percent = 30
    channel.save()
    codes = loop_widget_chats(api, widget_key, 45)
    assert codes[:30] == [200] * 30 and statuses(codes[30:]) == {429: 15}
    channel.refresh_from_db()
    assert channel.credits == 70
    assert limits.daily_used(channel) == 30  # refused chats hold no daily slot


def test_the_widget_share_is_of_the_most_credits_seen_today_and_grows_with_top_ups(api, llm, channel, key, widget_key):
    from channels_app.services import credits_add

    channel.rate_limit_per_minute = channel.visitor_ip_rate_limit_per_minute = 1000
    channel.visitor_ip_daily_limit = 1000
    channel.save()
    for i in range(50):
        assert chat(api, key, f"b{i}", session_id="backend").status_code == 200
    codes = loop_widget_chats(api, widget_key, 15)  # 20 % of the 50 left at the day's first widget chat
    assert codes[:10] == [200] * 10 and statuses(codes[10:]) == {429: 5}
    credits_add(channel=channel, amount=60)  # 100 now: the widget's share of the day becomes 20 in all
    codes = loop_widget_chats(api, widget_key, 15)
    assert codes[:10] == [200] * 10 and statuses(codes[10:]) == {429: 5}
    channel.refresh_from_db()
    assert channel.credits == 90


def test_widget_history_from_one_address_with_fresh_sessions_does_not_lock_out_the_backend(api, llm, channel, key, widget_key, monkeypatch):
    """Widget traffic cannot lock the backend out, at the defaults: 70 history requests in a minute, each with another session id."""
    assert chat(api, key, session_id="s-1").status_code == 200
    fresh_windows(monkeypatch, channel, margin=20)
    codes = [widget_history(api, widget_key, session_id=new_session_id(api, widget_key)).status_code for _ in range(70)]
    assert codes[:12] == [200] * 12 and statuses(codes[12:]) == {429: 58}  # the widget's share: 20 % of 60
    for _ in range(5):
        r = history(api, key, session_id="s-1")
        assert r.status_code == 200 and len(r.json()["messages"]) == 2


def test_history_is_limited_per_address_over_all_sessions(api, llm, channel, widget_key, monkeypatch):
    channel.widget_share_percent = 100  # the widget's share is not what this test is about
    channel.save()
    fresh_windows(monkeypatch, channel, margin=20)
    codes = [widget_history(api, widget_key, session_id=new_session_id(api, widget_key)).status_code for _ in range(30)]
    assert codes[:20] == [200] * 20 and statuses(codes[20:]) == {429: 10}  # visitor_ip_rate_limit_per_minute
    r = widget_history(api, widget_key, session_id=new_session_id(api, widget_key))
    assert (r.status_code, r.json()) == (429, {"error": "Rate limit exceeded"})


def test_chats_are_limited_per_address_per_minute_over_all_sessions(api, llm, channel, widget_key, monkeypatch):
    channel.widget_share_percent = 100
    channel.visitor_ip_rate_limit_per_minute = 4
    channel.save()
    fresh_windows(monkeypatch, channel, margin=20)
    assert loop_widget_chats(api, widget_key, 6) == [200] * 4 + [429] * 2
    channel.refresh_from_db()
    assert channel.credits == 96


def test_widget_chats_cannot_use_up_the_backends_per_minute_limit(api, llm, channel, key, widget_key, monkeypatch):
    channel.rate_limit_per_minute = 10  # the widget's share: 2 a minute
    channel.save()
    fresh_windows(monkeypatch, channel, margin=20)
    assert loop_widget_chats(api, widget_key, 15) == [200] * 2 + [429] * 13
    assert [chat(api, key, f"b{i}").status_code for i in range(11)] == [200] * 10 + [429]


def test_widget_chats_cannot_use_up_the_backends_daily_limit(api, llm, channel, key, widget_key):
    channel.daily_limit = 10  # the widget's share: 2 a day; the backend keeps at least 8
    channel.save()
    assert loop_widget_chats(api, widget_key, 5) == [200] * 2 + [429] * 3
    assert [chat(api, key, f"b{i}").status_code for i in range(9)] == [200] * 8 + [429]
    assert limits.daily_used(channel) == 10
    channel.refresh_from_db()
    assert channel.credits == 90


def test_the_widget_share_counts_only_answered_chats(api, llm, channel, widget_key):
    """A chat the provider failed gives back its slots of the widget's shares, as of the channel's day."""
    channel.daily_limit = 10  # the widget's share: 2 a day
    channel.save()
    llm.mode, llm.status = "status", 400
    assert loop_widget_chats(api, widget_key, 3) == [500] * 3
    llm.mode = "ok"
    assert loop_widget_chats(api, widget_key, 3) == [200, 200, 429]
    assert limits.daily_used(channel) == 2
