"""The conversations pages give context: previews, visitor names, sources, dates, threads explained, feedback."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Session
from gateway.testing.api import chat, issued_session_id, widget_chat

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def _list(owner_web, channel, **params):
    return owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/", params=params)


def test_each_row_shows_the_first_message_and_the_source(api, llm, owner_web, channel, key):
    chat(api, key, "Do you ship to Norway?", session_id="s-1")
    chat(api, key, "And to Sweden?", session_id="s-1")
    page = _list(owner_web, channel).text
    assert "Do you ship to Norway?" in page and "And to Sweden?" not in page
    assert ">API</span>" in page


def test_widget_visitors_get_a_human_name(api, llm, owner_web, channel, widget_key):
    widget_chat(api, widget_key, "hello from the widget", session_id="v-1")
    session = Session.objects.get()
    page = _list(owner_web, channel).text
    assert session.visitor_name.startswith("Visitor ") and len(session.visitor_name) == len("Visitor 3f2a")
    assert f">{session.visitor_name}</a>" in page
    assert f">{issued_session_id(widget_key, 'v-1')}</a>" not in page  # not the long random id


def test_the_page_explains_threads(owner_web, channel):
    assert "data-thread-explainer" in _list(owner_web, channel).text


def test_it_filters_by_the_day_a_thread_started(api, llm, owner_web, channel, key):
    chat(api, key, "last week's question", session_id="old")
    chat(api, key, "today's question", session_id="new")
    week_ago = timezone.now() - timedelta(days=7)
    Session.objects.filter(session_id="old").update(started_at=week_ago, expires_at=week_ago + timedelta(hours=24))
    today = timezone.now().date()
    page = _list(owner_web, channel, since=str(today)).text
    assert "today&#x27;s question" in page and "last week" not in page
    page = _list(owner_web, channel, until=str(today - timedelta(days=1))).text
    assert "last week&#x27;s question" in page and "today&#x27;s" not in page
    page = _list(owner_web, channel, since=str(today), until=str(today - timedelta(days=3))).text
    assert "must not be after" in page and "last week" in page  # a wrong range is said, and ignored


def test_the_transcript_shows_feedback_and_the_usage_page_counts_it(api, llm, owner_web, channel, key):
    chat(api, key, "one", session_id="s-1")
    api.post("/api/feedback", json={"session_id": "s-1", "rating": "down", "comment": "Not what I asked"},
             headers={"X-API-Key": key})
    chat(api, key, "two", session_id="s-2")
    api.post("/api/feedback", json={"session_id": "s-2", "rating": "up"}, headers={"X-API-Key": key})
    transcript = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/1/s-1").text
    assert 'data-feedback="down"' in transcript and "Not what I asked" in transcript
    usage = owner_web.get(f"/dashboard/channels/{channel.public_id}/usage/").text
    assert "👍</span> 1 · <span aria-label=\"thumbs down\">👎</span> 1" in usage


def test_the_settings_page_sets_the_retention(owner_web, channel):
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/edit/").text
    assert 'name="retention_days"' in page and 'value="90"' in page
    form = {"name": channel.name, "model": channel.model, "fallback_model": "", "system_prompt": "",
            "rate_limit_per_minute": 60, "daily_limit": 1000, "retention_days": 14, "is_active": "on"}
    owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", form)
    channel.refresh_from_db()
    assert channel.retention_days == 14
    form["retention_days"] = 0
    r = owner_web.submit(f"/dashboard/channels/{channel.public_id}/edit/", form)
    assert "Keep conversations for at least 1 day." in r.text


def test_the_widget_tab_lists_refused_origins_with_counts(api, owner_web, channel, widget_key):
    for _ in range(2):
        api.get("/api/widget-config", params={"key": widget_key}, headers={"Origin": "https://copycat.example"})
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/widget/").text
    assert "data-refused-origins-alert" in page
    assert "<code>https://copycat.example</code> <span class=\"muted small\">2 times" in page


def test_the_page_a_visitor_was_on_is_shown_when_stored(api, llm, owner_web, channel, key):
    r = chat(api, key, "Is this in stock?", session_id="s-1",
             metadata={"url": "https://shop.example/p/42", "title": "Blue kettle · Shop"})
    assert r.status_code == 200, r.text
    assert Session.objects.values_list("page_url", "page_title").get() == ("https://shop.example/p/42", "Blue kettle · Shop")
    page = _list(owner_web, channel).text
    assert "on Blue kettle · Shop" in page
    transcript = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/1/s-1").text
    assert '<a href="https://shop.example/p/42" rel="noopener noreferrer nofollow">Blue kettle · Shop</a>' in transcript
    Session.objects.update(page_url="javascript:alert(1)", page_title="")
    transcript = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/1/s-1").text
    assert 'href="javascript' not in transcript and "“javascript:alert(1)”" in transcript
