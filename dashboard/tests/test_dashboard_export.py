"""/dashboard/channels/<id>/conversations/export.csv and .jsonl: every message, streamed, owner only."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Feedback, Message, Session
from dashboard import export

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def _url(channel, fmt):
    return f"/dashboard/channels/{channel.public_id}/conversations/export.{fmt}"


def _thread(channel, session_id, *, days_ago=0, source="api", contents=("hi", "hello")):
    started = timezone.now() - timedelta(days=days_ago)
    session = Session.objects.create(
        channel=channel, session_id=session_id, source=source, started_at=started, expires_at=started + timedelta(hours=24)
    )
    for i, content in enumerate(contents):
        Message.objects.create(session=session, role="user" if i % 2 == 0 else "assistant", content=content, created_at=started)
    return session


def test_it_exports_every_message_as_csv(owner_web, channel):
    session = _thread(channel, "s-1", contents=("=SUM(A1)", "Sure, **bold**, \"quoted\",\nnew line"))
    Feedback.objects.create(message=session.messages.get(role="assistant"), rating="down", comment="meh", created_at=timezone.now())
    r = owner_web.get(_url(channel, "csv"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="conversations-')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["role"], row["content"], row["feedback"], row["feedback_comment"]) for row in rows] == [
        ("user", "'=SUM(A1)", "", ""),  # a spreadsheet must not run it as a formula
        ("assistant", "Sure, **bold**, \"quoted\",\nnew line", "down", "meh"),
    ]
    assert rows[0]["session_id"] == "s-1" and rows[0]["source"] == "api" and rows[0]["thread"] == "1"


def test_it_exports_json_lines_with_the_exact_text(owner_web, channel):
    _thread(channel, "ws_visitor", source="widget", contents=("=1+1 ünï ✓", "ok"))
    r = owner_web.get(_url(channel, "jsonl"))
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [line["content"] for line in lines] == ["=1+1 ünï ✓", "ok"]
    assert lines[0]["visitor"].startswith("Visitor ") and lines[0]["source"] == "widget"
    assert set(lines[0]) == set(export.COLUMNS)


def test_it_streams_more_rows_than_one_batch(owner_web, channel, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 3)  # the server runs in this process: batches of 3
    _thread(channel, "big", contents=[f"m{i}" for i in range(10)])
    r = owner_web.get(_url(channel, "jsonl"))
    assert [json.loads(line)["content"] for line in r.text.splitlines()] == [f"m{i}" for i in range(10)]
    assert "content-length" not in r.headers  # streamed, not built in memory first


def test_it_honours_the_date_filter(owner_web, channel):
    _thread(channel, "old", days_ago=10, contents=("old one",))
    _thread(channel, "new", contents=("new one",))
    today = timezone.now().date()
    r = owner_web.get(_url(channel, "jsonl"), params={"since": str(today - timedelta(days=1))})
    assert [json.loads(line)["content"] for line in r.text.splitlines()] == ["new one"]


def test_it_exports_only_this_channels_conversations(owner_web, channel, other_channel_and_key):
    _thread(other_channel_and_key[0], "theirs", contents=("their secret",))
    assert "their secret" not in owner_web.get(_url(channel, "csv")).text


def test_another_owner_gets_a_404(outsider_web, channel):
    _thread(channel, "s-1")
    assert outsider_web.get(_url(channel, "csv")).status_code == 404


def test_it_needs_a_login(web, channel):
    r = web.get(_url(channel, "csv"), follow_redirects=False)
    assert r.status_code == 302 and "/accounts/login/" in r.headers["location"]


def test_an_unknown_format_is_a_404(owner_web, channel):
    assert owner_web.get(_url(channel, "xml")).status_code == 404


def test_the_list_links_both_exports(owner_web, channel):
    page = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/").text
    assert f'href="{_url(channel, "csv")}"' in page and f'href="{_url(channel, "jsonl")}"' in page
