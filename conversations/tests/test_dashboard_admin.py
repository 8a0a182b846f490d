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


# Issue 19: the lists of tables that grow without bound never count them whole.


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
