"""/admin/ for sessions, messages and failed requests: filters, read-only transcripts."""

import re

import pytest
from django.utils import timezone

from conversations.models import FailedRequest, Message, Session

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture
def thread(channel):
    now = timezone.now()
    session = Session.objects.create(channel=channel, session_id="admin-s", started_at=now, expires_at=now)
    Message.objects.create(session=session, role="user", content="Question?", created_at=now)
    Message.objects.create(session=session, role="assistant", content="Answer.", created_at=now, model="gemma2-9b-it")
    return session


def test_it_lists_sessions_with_filters(staff_web, thread, channel, other_channel_and_key):
    page = staff_web.get("/admin/conversations/session/").text
    assert "admin-s" in page and "By channel" in page and "By state" in page
    filtered = staff_web.get("/admin/conversations/session/", params={"channel__id__exact": channel.pk}).text
    assert "admin-s" in filtered
    assert "admin-s" not in staff_web.get("/admin/conversations/session/", params={"state": "live"}).text


def test_it_shows_a_read_only_transcript(staff_web, thread):
    r = staff_web.get(f"/admin/conversations/session/{thread.pk}/change/")
    assert r.status_code == 200
    assert "Question?" in r.text and "Answer." in r.text
    assert 'name="session_id"' not in r.text  # no editable fields
    assert staff_web.submit(f"/admin/conversations/session/{thread.pk}/change/", {"session_id": "x"}).status_code == 403


def test_it_filters_messages_by_channel_model_and_date(staff_web, thread, channel):
    page = staff_web.get("/admin/conversations/message/", params={"model": "gemma2-9b-it"}).text
    assert "Answer." in page and "Question?" not in page
    assert "By created at" in page
    assert "Answer." in staff_web.get("/admin/conversations/message/", params={"session__channel__id__exact": channel.pk}).text


def test_it_has_no_add_pages(staff_web):
    assert staff_web.get("/admin/conversations/message/add/").status_code == 403
    assert staff_web.get("/admin/conversations/session/add/").status_code == 403


def test_it_lists_failed_requests(staff_web, channel):
    FailedRequest.objects.create(channel=channel, endpoint="chat", status=429, error="Rate limit exceeded")
    assert "Rate limit exceeded" in staff_web.get("/admin/conversations/failedrequest/").text


def test_it_is_for_staff_only(owner_web, thread):
    assert owner_web.get("/admin/conversations/message/").status_code == 302


# The lists of tables that grow without bound never count them whole: a count of millions of rows is a scan.


def test_large_lists_count_at_most_a_capped_number_of_rows(thread, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gateway.infra.paginators import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "CAP", 1)
    with CaptureQueriesContext(connection) as queries:
        assert CappedCountPaginator(Message.objects.order_by("-pk"), 100).count == 1
    assert "LIMIT 1" in queries[0]["sql"] and "ORDER BY" not in queries[0]["sql"]
    assert CappedCountPaginator([1, 2, 3], 2).count == 1


def test_filtered_lists_offer_no_full_count_and_sort_only_on_indexed_columns(staff_web, thread, channel):
    page = staff_web.get("/admin/conversations/message/", params={"session__channel__id__exact": channel.pk}).text
    assert "Answer." in page and " total)" not in page
    assert re.findall(r'class="sortable column-(\w+)', page.split('id="result_list"')[1].split("</thead>")[0]) == [
        "created_at"
    ]
    sessions = staff_web.get("/admin/conversations/session/", params={"source__exact": "api"}).text
    assert "admin-s" in sessions and " total)" not in sessions
    head = sessions.split('id="result_list"')[1].split("</thead>")[0]
    sortable = re.findall(r'class="sortable column-(\w+)', head)
    assert sortable == ["started_at", "expires_at"]


def _messages(channel, n, content):
    now = timezone.now()
    session = Session.objects.create(channel=channel, session_id=f"{content}-s", started_at=now, expires_at=now)
    Message.objects.bulk_create(
        Message(session=session, role="user", content=f"{content} {i:03d}", created_at=now) for i in range(n))


def test_a_filtered_list_is_paged_without_a_count(staff_web, channel, other_channel_and_key):
    """A filtered list reads its page and one row more; it says "more follow" instead of a count."""
    _messages(channel, 53, "ours")
    _messages(other_channel_and_key[0], 60, "theirs")  # newer: a primary-key walk passes them first
    first = staff_web.get("/admin/conversations/message/", params={"session__channel__id__exact": channel.pk}).text
    listed = re.findall(r'field-short_content">(ours \d{3})<', first)
    assert listed == [f"ours {i:03d}" for i in range(52, 2, -1)] and "theirs" not in first
    assert "Page 1, more follow" in first and "?p=2" in first and "?p=3" not in first and "showall" not in first
    last = staff_web.get("/admin/conversations/message/",
                         params={"session__channel__id__exact": channel.pk, "p": 2}).text
    assert re.findall(r'field-short_content">(ours \d{3})<', last) == ["ours 002", "ours 001", "ours 000"]
    assert "53 messages" in last and "more follow" not in last  # the last page knows the total
    whole = staff_web.get("/admin/conversations/message/").text
    assert "113 messages" in whole and "more follow" not in whole  # unfiltered: the capped count, as before


def test_a_channels_messages_are_listed_thread_by_thread_newest_thread_first(staff_web, channel, other_channel_and_key):
    """Through the channel's sessions index, so a channel whose newest rows lie far back costs a page."""
    now = timezone.now()
    older = Session.objects.create(channel=channel, session_id="older", started_at=now - timezone.timedelta(hours=2),
                                   expires_at=now)
    newer = Session.objects.create(channel=channel, session_id="newer", started_at=now - timezone.timedelta(hours=1),
                                   expires_at=now)
    for session, content in [(older, "o1"), (newer, "n1"), (older, "o2"), (newer, "n2")]:
        Message.objects.create(session=session, role="user", content=content, created_at=now)
    _messages(other_channel_and_key[0], 3, "theirs")
    page = staff_web.get("/admin/conversations/message/", params={"session__channel__id__exact": channel.pk}).text
    assert re.findall(r'field-short_content">(\w+)<', page) == ["n2", "n1", "o2", "o1"]
    sessions = staff_web.get("/admin/conversations/session/", params={"channel__id__exact": channel.pk}).text
    assert re.findall(r">(newer|older|theirs-s)<", sessions) == ["newer", "older"]


def test_a_search_is_paged_without_a_count(staff_web, channel):
    now = timezone.now()
    Session.objects.bulk_create(
        Session(channel=channel, session_id="pasted", thread=i, started_at=now, expires_at=now) for i in range(1, 53))
    page = staff_web.get("/admin/conversations/session/", params={"q": "pasted"}).text
    assert len(re.findall(r'class="field-session_id"', page)) == 50
    assert "More than one page of results" in page and "Page 1, more follow" in page
    assert "52 sessions" in staff_web.get("/admin/conversations/session/", params={"q": "pasted", "p": 2}).text


def test_live_sessions_are_listed_by_expiry_newest_first(staff_web, channel):
    now = timezone.now()
    hour = timezone.timedelta(hours=1)
    for session_id, expires in [("soon", now + hour), ("latest", now + 3 * hour), ("later", now + 2 * hour),
                                ("gone", now - hour)]:
        Session.objects.create(channel=channel, session_id=session_id, started_at=expires - 24 * hour, expires_at=expires)
    page = staff_web.get("/admin/conversations/session/", params={"state": "live"}).text
    assert re.findall(r">(soon|latest|later|gone)<", page) == ["latest", "later", "soon"]
    expired = staff_web.get("/admin/conversations/session/", params={"state": "expired"}).text
    assert re.findall(r">(soon|latest|later|gone)<", expired) == ["gone"]


def test_the_next_page_paginator_reads_one_page_and_one_row_without_counting(thread, channel):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gateway.infra.paginators import NextPagePaginator

    now = timezone.now()
    Message.objects.bulk_create(Message(session=thread, role="user", content=str(i), created_at=now) for i in range(3))
    with CaptureQueriesContext(connection) as queries:
        paginator = NextPagePaginator(Message.objects.order_by("pk"), 2, number=2)
        page = paginator.page(2)
        assert [m.content for m in page.object_list] == ["0", "1"] and page.has_next()
        assert paginator.count == 5 and paginator.num_pages == 3 and paginator.has_more
    assert len(queries) == 1 and "COUNT" not in queries[0]["sql"].upper() and "LIMIT 3 OFFSET 2" in queries[0]["sql"]
    last = NextPagePaginator(Message.objects.order_by("pk"), 2, number=3)
    assert [m.content for m in last.page(3).object_list] == ["2"] and last.count == 5 and not last.has_more
