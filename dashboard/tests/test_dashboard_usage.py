"""/dashboard/channels/<id>/usage/ and dashboard.usage: 30 days of requests, tokens, failures, latency."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import FailedRequest, Message, Session
from dashboard.usage import channel_usage
from gateway.testing.api import chat
from gateway.testing.rollups import rebuild_all_usage

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def _reply(channel, when, latency, tokens=(10, 5)):
    session, _ = Session.objects.get_or_create(
        channel=channel, session_id="s", thread=1, defaults={"started_at": when, "expires_at": when}
    )
    Message.objects.create(session=session, role="user", content="q", created_at=when)
    Message.objects.create(
        session=session,
        role="assistant",
        content="a",
        created_at=when,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
        latency_ms=latency,
    )
    rebuild_all_usage()  # stored straight through the ORM, not the chat store


def _failure(channel, when, status):
    failure = FailedRequest.objects.create(channel=channel, endpoint="chat", status=status, error="x")
    FailedRequest.objects.filter(pk=failure.pk).update(created_at=when)
    rebuild_all_usage()


def test_it_counts_each_utc_day_of_the_last_30(channel):
    now = timezone.now().replace(hour=12)
    yesterday = now - timedelta(days=1)
    for latency in (100, 300, 200):
        _reply(channel, now, latency)
    _reply(channel, yesterday, 50)
    _reply(channel, now - timedelta(days=31), 999)  # outside the window
    _failure(channel, now, 429)
    _failure(channel, now, 429)
    _failure(channel, now, 403)
    _failure(channel, yesterday, 500)
    usage = channel_usage(channel=channel, now=now)
    assert len(usage.days) == 30
    today, before = usage.days[-1], usage.days[-2]
    assert today.day == now.date() and before.day == yesterday.date()
    assert (today.answered, today.limited, today.refused, today.errors) == (3, 2, 1, 0)
    assert (today.requests, today.failed, today.tokens, today.median_latency_ms) == (6, 3, 45, 200)
    assert (before.answered, before.errors, before.median_latency_ms) == (1, 1, 50)
    assert usage.summary.requests == 8 and usage.summary.answered == 4 and usage.summary.limited == 2
    assert usage.summary.median_latency_ms == 150
    assert usage.summary.success_pct == 50


def test_it_has_empty_days_and_no_latency_without_data(channel):
    usage = channel_usage(channel=channel)
    assert all(d.requests == 0 and d.median_latency_ms is None for d in usage.days)
    assert usage.summary.success_pct is None


def test_the_page_charts_real_chats_and_429s_from_the_api(owner_web, api, llm, channel, key):
    channel.daily_limit = 2  # deterministic, unlike a per-minute window that may roll over mid-test
    channel.save()
    assert chat(api, key, "one").status_code == 200
    assert chat(api, key, "two").status_code == 200
    assert chat(api, key, "three").status_code == 429
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/usage/").text
    assert '<div class="value" data-kpi="requests">3</div>' in page
    assert '<div class="value" data-kpi="answered">2</div>' in page
    assert '<div class="value" data-kpi="failed">1</div>' in page
    assert '<div class="value" data-kpi="tokens">36</div>' in page
    for chart in ("requests", "tokens", "failed", "latency"):
        assert f'data-chart="{chart}"' in page
    assert page.count('<rect class="s-answered"') == 1
    assert page.count('<rect class="s-limited"') == 1
    assert "answered 2, failed 1" in page


def test_the_page_says_when_there_is_no_data(owner_web, channel):
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/usage/").text
    assert page.count("No data in the last 30 days") == 4


def test_it_is_a_404_for_another_owner(outsider_web, channel):
    assert outsider_web.get(f"/dashboard/channels/{channel.public_id}/usage/").status_code == 404
