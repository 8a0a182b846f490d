"""Per-channel retention: `manage.py purge_expired_data` and the in-process runner delete what is older."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from channels_app.models import RefusedOrigin
from conversations.engine import retention
from conversations.models import AuditEvent, FailedRequest, Feedback, IdempotencyKey, Message, Session
from gateway.testing.api import chat
from gateway.testing.tables import tables_containing


def age(session_id: str, days: float) -> None:
    """Move a session's thread and its messages `days` into the past."""
    past = timezone.now() - timedelta(days=days)
    Session.objects.filter(session_id=session_id).update(started_at=past, expires_at=past + timedelta(hours=24))
    Message.objects.filter(session__session_id=session_id).update(created_at=past)


def test_it_deletes_conversations_older_than_the_channels_retention(api, llm, channel, key):
    channel.retention_days = 30
    channel.save()
    chat(api, key, "ancient-words-4411", session_id="old")
    api.post("/api/feedback", json={"session_id": "old", "rating": "up", "comment": "ancient-words-4411"},
             headers={"X-API-Key": key})
    chat(api, key, "recent words", session_id="recent")
    age("old", 31)
    age("recent", 29)

    out = StringIO()
    call_command("purge_expired_data", stdout=out)

    assert "threads: 1" in out.getvalue() and "messages: 2" in out.getvalue()
    assert list(Session.objects.values_list("session_id", flat=True)) == ["recent"]
    assert not Feedback.objects.exists()
    assert tables_containing("ancient-words-4411") == {}
    event = AuditEvent.objects.get()
    assert (event.action, event.via, event.counts["threads"]) == ("retention_purge", "schedule", 1)


def test_a_thread_with_a_recent_message_is_kept(api, llm, channel, key):
    channel.retention_days = 1
    channel.save()
    chat(api, key, "first", session_id="s")
    past = timezone.now() - timedelta(days=3)
    Session.objects.update(started_at=past)
    Message.objects.filter(content="first").update(created_at=past)  # its reply stays recent
    assert retention.purge_all()["threads"] == 0
    assert Session.objects.count() == 1


def test_each_channel_keeps_its_own_retention(api, llm, channel, key, other_channel_and_key):
    other, other_key = other_channel_and_key[0], other_channel_and_key[1].plaintext
    channel.retention_days, other.retention_days = 7, 365
    channel.save()
    other.save()
    chat(api, key, "mine", session_id="a")
    chat(api, other_key, "theirs", session_id="b")
    age("a", 10)
    age("b", 10)
    retention.purge_all()
    assert list(Session.objects.values_list("session_id", flat=True)) == ["b"]


def test_it_purges_old_failed_requests_refused_origins_and_idempotency_answers(channel):
    now = timezone.now()
    old = now - timedelta(days=channel.retention_days + 1)
    FailedRequest.objects.create(channel=channel, endpoint="chat", status=429, error="Rate limit exceeded")
    FailedRequest.objects.update(created_at=old)
    FailedRequest.objects.create(channel=channel, endpoint="chat", status=429, error="Rate limit exceeded")
    RefusedOrigin.objects.create(channel=channel, origin="https://a.example", count=1, first_seen=old, last_seen=old)
    IdempotencyKey.objects.create(channel=channel, key="k1", fingerprint="f", response={}, created_at=now - timedelta(days=2))
    IdempotencyKey.objects.create(channel=channel, key="k2", fingerprint="f", response={}, created_at=now)
    totals = retention.purge_all()
    assert (totals["failed_requests"], totals["refused_origins"], totals["idempotency_answers"]) == (1, 1, 1)
    assert (FailedRequest.objects.count(), RefusedOrigin.objects.count(), IdempotencyKey.objects.count()) == (1, 0, 1)


def test_a_purge_with_nothing_to_delete_leaves_no_audit_event(channel):
    assert set(retention.purge_all().values()) == {0}
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)  # the runner's thread reads with a connection of its own
def test_the_in_process_runner_purges_on_its_interval(api, llm, channel, key, settings):
    from gateway.infra.jobs.in_process import InProcessRunner

    chat(api, key, "old", session_id="old")
    age("old", channel.retention_days + 1)
    settings.RETENTION_PURGE_INTERVAL_SECONDS = 0.2
    settings.ALERT_CHECK_INTERVAL_SECONDS = 0
    runner = InProcessRunner()
    runner.start_schedule()
    try:
        assert runner.thread is not None and runner.thread.daemon
        deadline = time.monotonic() + 10
        while Session.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Session.objects.exists()
    finally:
        runner.stop()
    assert not runner.thread.is_alive()


def test_the_runner_is_off_with_a_zero_interval(settings):
    from gateway.infra import jobs

    settings.RETENTION_PURGE_INTERVAL_SECONDS = 0
    assert "retention.purge" not in [spec.name for spec, _ in jobs.periodic()]


def test_a_purge_goes_in_bounded_batches_and_leaves_the_usage_counted(channel):
    """Each batch is its own short transaction of at most PURGE_BATCH threads; usage stays counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from conversations.models import UsageDay
    from gateway.testing.rollups import rebuild_all_usage

    channel.retention_days = 30
    channel.save()
    long_ago = timezone.now() - timedelta(days=31)
    for i in range(5):
        s = Session.objects.create(channel=channel, session_id=f"old{i}", started_at=long_ago, expires_at=long_ago)
        Message.objects.create(session=s, role="user", content="q", created_at=long_ago)
        Message.objects.create(session=s, role="assistant", content="a", created_at=long_ago)
    for i in range(3):
        FailedRequest.objects.filter(pk=FailedRequest.objects.create(
            channel=channel, endpoint="chat", status=429, error="x").pk).update(created_at=long_ago)
    rebuild_all_usage()
    with CaptureQueriesContext(connection) as queries:
        counts = retention.channel_purge(channel=channel, now=timezone.now(), batch=2)
    assert (counts["threads"], counts["messages"], counts["failed_requests"]) == (5, 10, 3)
    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "conversations_session"')]
    assert len(deletes) == 3  # threads in batches of 2, 2 and 1
    failures = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "conversations_failedrequest"')]
    assert len(failures) == 2
    assert not Session.objects.filter(channel=channel).exists()
    assert UsageDay.objects.get(channel=channel, day=long_ago.date()).answered == 5
