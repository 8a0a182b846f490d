"""The usage page reads latency honestly: a demo reply (no upstream) has none, a fast upstream answer reads
"under 25 ms" rather than "0 ms", and the latency chart is never labelled "No answered chats" beside answered chats;
money too small for four decimals reads "under $0.0001", never "$0.0000"."""

import re

from django.utils import timezone

from conversations.models import Message, Session
from gateway.testing.api import chat, chat_stream
from gateway.testing.rollups import rebuild_all_usage


def _usage(web, channel) -> str:
    return web.get(f"/dashboard/channels/{channel.public_id}/usage/").text


def _latency_chart(page: str) -> str:
    return page.split('data-chart="latency"')[1].split("</section>")[0]


def _kpi(page: str, name: str) -> str:
    return re.search(rf'data-kpi="{name}">([^<]*)<', page).group(1)


def test_demo_replies_record_no_upstream_latency(api, owner_web, channel, key, settings):
    settings.LLM_API_KEY = ""  # the built-in offline provider answers
    assert chat(api, key, "Hi", session_id="a").status_code == 200
    response, events = chat_stream(api, key, "Hi again", session_id="b")
    assert response.status_code == 200 and events[-1][0] == "done"
    replies = Message.objects.filter(session__channel=channel, role="assistant")
    assert replies.count() == 2 and set(replies.values_list("latency_ms", flat=True)) == {None}

    page = _usage(owner_web, channel)
    assert _kpi(page, "answered") == "2"
    assert _kpi(page, "latency") == "–"
    chart = _latency_chart(page)
    assert "No answered chats" not in chart and "No upstream latency measured" in chart


def test_a_fast_upstream_reads_under_25_ms_and_its_chart_is_not_empty(owner_web, channel):
    at = timezone.now()
    session = Session.objects.create(channel=channel, session_id="s", started_at=at, expires_at=at)
    Message.objects.bulk_create(
        Message(session=session, role="assistant", content="a", created_at=at, latency_ms=ms) for ms in (3, 7, 12)
    )
    rebuild_all_usage()  # stored straight through the ORM, not the chat store

    page = _usage(owner_web, channel)
    assert _kpi(page, "latency") == "under 25 ms"
    chart = _latency_chart(page)
    assert 'class="empty-label"' not in chart
    assert chart.count('<rect class="s-latency"') == 1  # today's bar, drawn although its median reads 0


def test_with_no_answered_chat_the_latency_chart_says_so(api, llm, owner_web, channel, key):
    llm.mode, llm.status = "status", 500
    assert chat(api, key, "Hi").status_code >= 500
    chart = _latency_chart(_usage(owner_web, channel))
    assert "No answered chats in the last 30 days" in chart


def test_money_too_small_for_four_decimals_says_so():
    from decimal import Decimal

    from dashboard.templatetags.dashboard import usd

    assert [usd(v) for v in (None, Decimal(0), Decimal("0.00003"), Decimal("0.0042"), Decimal("1234.5"))] == [
        "–", "$0.00", "under $0.0001", "$0.0042", "$1,234.50"
    ]
