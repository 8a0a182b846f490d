"""The usage page's polish: a 7/30/90-day range, axis ticks that read well, "No data" only when
there is none, and counts written the same way in tiles, chart headers and the table."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import FailedRequest, Message, Session
from dashboard.charts import axis_ticks
from gateway.testing.rollups import rebuild_all_usage


def _url(channel, days=None):
    return f"/dashboard/channels/{channel.public_id}/usage/" + (f"?days={days}" if days else "")


def _answered(channel, n, *, days_ago=0, latency_ms=1):
    at = timezone.now() - timedelta(days=days_ago)
    session = Session.objects.create(channel=channel, session_id=f"s{days_ago}", started_at=at, expires_at=at)
    Message.objects.bulk_create(
        Message(session=session, role="assistant", content="a", created_at=at, latency_ms=latency_ms,
                prompt_tokens=600, completion_tokens=600)
        for _ in range(n)
    )
    rebuild_all_usage()  # stored straight through the ORM, not the chat store


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [(1, [0, 1]), (5, [0, 1, 2, 3, 4, 5]), (7, [0, 2, 4, 6, 8]), (480, [0, 100, 200, 300, 400, 500])],
)
def test_axis_ticks_are_whole_and_evenly_spaced(peak, ticks):
    assert axis_ticks(peak) == ticks


def test_a_one_millisecond_latency_reads_0_and_1_ms(owner_web, channel):
    _answered(channel, 1, latency_ms=1)
    page = owner_web.get(_url(channel)).text
    latency = page.split('data-chart="latency"')[1].split("</section>")[0]
    labels = re.findall(r'<text class="axis-label"[^>]*dominant-baseline="middle"[^>]*>([^<]+)</text>', latency)  # the y axis
    assert labels == ["0", "1"]  # the unit is in the chart's title


@pytest.mark.parametrize(("days", "shown"), [(7, "7"), (90, "90"), (None, "30"), ("365", "30")])
def test_it_shows_the_chosen_range(owner_web, channel, days, shown):
    _answered(channel, 2, days_ago=20)  # inside 30 and 90 days, outside 7
    page = owner_web.get(_url(channel, days)).text
    assert f'aria-current="page" class="active" href="?days={shown}"' in page
    assert page.count('<tr><td class="nowrap">') == int(shown)
    requests = re.search(r'data-kpi="requests">([^<]+)<', page).group(1)
    assert requests == ("0" if shown == "7" else "2")
    assert f"in {shown} days" in page


def test_no_data_is_said_only_of_charts_without_any(owner_web, channel):
    _answered(channel, 3)
    page = owner_web.get(_url(channel)).text
    assert "No data in the last 30 days" not in page
    assert "No failed requests in the last 30 days" in page


def test_counts_are_written_alike_in_tiles_headers_and_table(owner_web, channel):
    _answered(channel, 1)
    failure = FailedRequest.objects.create(channel=channel, endpoint="chat", status=429, error="x")
    assert failure.pk
    rebuild_all_usage()
    page = owner_web.get(_url(channel)).text
    assert 'data-kpi="tokens">1,200<' in page
    assert "1,200 in 30 days" in page
    assert '<td class="num">1,200</td>' in page
