"""A channel's day of usage kept in several shard rows (conversations/engine/rollups.py): every page shows their sum.

The rows are written straight through the ORM, several shards of one channel and day, as a busy channel's
concurrent chats leave them; the pages are read through real HTTP.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import make_channel
from conversations.engine import rollups
from conversations.models import UsageDay, UsageLatency
from dashboard.usage import channel_usage

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def _sharded_day(channel, now):
    """Today in three shards: 6 answered, 1 limited, 1 refused, 1 error, 45 tokens, $0.75; latencies
    100 ms ×3 (in two shards) and 300 ms ×3: a median of 200 ms only when the bucket's shards add up."""
    UsageDay.objects.create(channel=channel, day=now.date(), shard=0, answered=2, limited=1, prompt_tokens=10,
                            completion_tokens=5, cost=Decimal("0.5"), last_at=now - timedelta(hours=2))
    UsageDay.objects.create(channel=channel, day=now.date(), shard=3, answered=3, errors=1, prompt_tokens=20,
                            completion_tokens=10, cost=Decimal("0.25"), last_at=now - timedelta(minutes=5))
    UsageDay.objects.create(channel=channel, day=now.date(), shard=7, answered=1, refused=1,
                            last_at=now - timedelta(hours=3))
    fast, slow = rollups.bucket_of(100), rollups.bucket_of(300)
    UsageLatency.objects.create(channel=channel, day=now.date(), bucket=fast, shard=0, count=2)
    UsageLatency.objects.create(channel=channel, day=now.date(), bucket=fast, shard=3, count=1)
    UsageLatency.objects.create(channel=channel, day=now.date(), bucket=slow, shard=3, count=3)


def test_the_usage_summary_adds_a_days_shards(channel):
    now = timezone.now()
    _sharded_day(channel, now)
    UsageDay.objects.create(channel=channel, day=(now - timedelta(days=1)).date(), shard=2, answered=4)
    usage = channel_usage(channel=channel, now=now)
    today = usage.days[-1]
    assert (today.answered, today.limited, today.refused, today.errors) == (6, 1, 1, 1)
    assert (today.tokens, today.cost, today.median_latency_ms) == (45, Decimal("0.75"), 200)
    assert usage.days[-2].answered == 4
    assert (usage.summary.requests, usage.summary.answered) == (13, 10)
    assert sum(m.answered for m in usage.months) == 10


def test_the_usage_page_and_the_channel_card_show_the_sums(owner_web, channel):
    now = timezone.now()
    _sharded_day(channel, now)
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/usage/").text
    assert '<div class="value" data-kpi="requests">9</div>' in page
    assert '<div class="value" data-kpi="answered">6</div>' in page
    assert '<div class="value" data-kpi="failed">3</div>' in page
    assert '<div class="value" data-kpi="tokens">45</div>' in page
    assert '<div class="value" data-kpi="latency">200 ms</div>' in page

    detail = owner_web.get(f"/dashboard/channels/{channel.public_id}/").text
    assert f"<dd>6 / {channel.daily_limit}</dd>" in detail  # today's answered chats, every shard

    cards = owner_web.get("/dashboard/").text
    latest = re.search(r'Last activity: <time datetime="([^"]+)"', cards).group(1)
    assert latest == (now - timedelta(minutes=5)).astimezone(timezone.get_current_timezone()).isoformat()


def test_the_organisation_page_adds_each_channels_shards(owner, owner_web, channel):
    now = timezone.now()
    _sharded_day(channel, now)
    second, _ = make_channel(owner, name="Blog")
    UsageDay.objects.create(channel=second, day=now.date(), shard=1, answered=1, prompt_tokens=1)
    UsageDay.objects.create(channel=second, day=now.date(), shard=6, answered=1, prompt_tokens=2)

    page = owner_web.get(f"/dashboard/org/{channel.organisation.public_id}/usage/").text
    assert re.search(r'data-total="answered">([^<]*)<', page).group(1) == "8"
    assert re.search(r'data-total="tokens">([^<]*)<', page).group(1) == "48"
    row = page.split(f'data-channel="{second.public_id}"')[1].split("</tr>")[0]
    assert ">2<" in row and ">3<" in row  # its answered chats and tokens, both shards
