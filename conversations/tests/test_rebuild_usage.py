"""manage.py rebuild_usage: the roll-ups recomputed from stored messages and failed requests, for a date range."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conversations.engine import rollups
from conversations.models import FailedRequest, Message, Session, UsageDay, UsageLatency

pytestmark = pytest.mark.django_db


def _answered(channel, at, latency_ms, cost="0.002"):
    session = Session.objects.create(channel=channel, session_id=f"s{latency_ms}", started_at=at, expires_at=at)
    Message.objects.create(session=session, role="user", content="q", created_at=at)
    Message.objects.create(session=session, role="assistant", content="a", created_at=at, latency_ms=latency_ms,
                           prompt_tokens=10, completion_tokens=20, cost=Decimal(cost))


def _failed(channel, at, status):
    failure = FailedRequest.objects.create(channel=channel, endpoint="chat", status=status, error="x")
    FailedRequest.objects.filter(pk=failure.pk).update(created_at=at)


def test_it_rebuilds_the_days_in_range_and_leaves_the_others(channel, other_channel_and_key):
    now = timezone.now().replace(hour=12)
    two_days_ago, yesterday = now - timedelta(days=2), now - timedelta(days=1)
    for at, latency in ((yesterday, 100), (yesterday, 300), (now, 3000)):
        _answered(channel, at, latency)
    _failed(channel, yesterday, 429)
    _failed(channel, yesterday, 502)
    _failed(channel, yesterday, 401)
    UsageDay.objects.create(channel=channel, day=two_days_ago.date(), answered=7)  # outside the range: kept
    out = StringIO()
    call_command("rebuild_usage", "--since", str(yesterday.date()), "--until", str(yesterday.date()),
                 "--channel", str(channel.public_id), stdout=out)
    assert "Rebuilt 1 channel-days" in out.getvalue()
    day = UsageDay.objects.get(channel=channel, day=yesterday.date())
    assert (day.answered, day.limited, day.errors, day.refused) == (2, 1, 1, 1)
    assert (day.prompt_tokens, day.completion_tokens, day.cost) == (20, 40, Decimal("0.004"))
    assert UsageDay.objects.get(channel=channel, day=two_days_ago.date()).answered == 7
    assert not UsageDay.objects.filter(day=now.date()).exists()  # today was not in the range
    counts = dict(UsageLatency.objects.filter(channel=channel, day=yesterday.date()).values_list("bucket", "count"))
    assert counts == {rollups.bucket_of(100): 1, rollups.bucket_of(300): 1}
    assert not UsageDay.objects.filter(channel=other_channel_and_key[0]).exists()


def test_it_refuses_a_backwards_range():
    with pytest.raises(CommandError):
        call_command("rebuild_usage", "--since", "2026-02-02", "--until", "2026-02-01")


@pytest.mark.parametrize(("values", "median", "p95"), [
    ([100, 200, 300], 200, 290),  # interpolated between ranks, as statistics.quantiles' inclusive method
    ([50, 100, 200, 300], 150, 285),
    ([1000] * 19 + [20000], 1000, 1950),
    ([], None, None),
])
def test_the_median_and_p95_are_read_from_the_buckets(values, median, p95):
    counts: dict[int, int] = {}
    for v in values:
        counts[rollups.bucket_of(v)] = counts.get(rollups.bucket_of(v), 0) + 1
    assert (rollups.quantile(counts, 0.5), rollups.quantile(counts, 0.95)) == (median, p95)
