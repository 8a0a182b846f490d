"""Rules with one home and a second, SQL form for the chat path's single-statement phases: both forms pinned together.

The credit hold (channels_app.services.credit_hold / CREDIT_HOLD_SQL), the thread
rule and the session expiry (conversations/threads.py, and statements.py's SQL).
The SQL forms run on PostgreSQL only (CI runs this file there too); the rule
functions and the ORM forms run everywhere.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_app.models import Channel
from channels_app.services import CREDIT_HOLD_SQL, credit_hold
from conversations import selectors, statements, threads, windows
from conversations.models import Message, Session
from conversations.provider import Completion

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL forms run on PostgreSQL")


def _credits(channel) -> int:
    return Channel.objects.values_list("credits", flat=True).get(pk=channel.pk)


@pytest.mark.parametrize("credits", [0, 1, 2])
def test_the_credit_hold_sql_is_credit_holds_rule(channel, credits):
    Channel.objects.filter(pk=channel.pk).update(credits=credits)
    by_orm = credit_hold(channel_id=channel.pk)
    after_orm = _credits(channel)

    Channel.objects.filter(pk=channel.pk).update(credits=credits)
    with connection.cursor() as cursor:
        cursor.execute(CREDIT_HOLD_SQL, {"channel": channel.pk})
        by_sql = len(cursor.fetchall()) == 1

    assert (by_sql, _credits(channel)) == (by_orm, after_orm) == (credits > 0, max(0, credits - 1))


def test_the_credit_hold_sql_names_the_channel_table():
    assert f"UPDATE {Channel._meta.db_table} " in CREDIT_HOLD_SQL


def test_the_session_expiry_and_the_thread_rule():
    now = timezone.now()
    assert threads.expires_at_for(now) - now == timedelta(hours=24)  # SESSION_TTL_HOURS' default
    assert threads.is_live(now + timedelta(seconds=1), now) and not threads.is_live(now, now)
    assert threads.thread_for_message(None, None, now) == (1, True)
    assert threads.thread_for_message(3, now + timedelta(seconds=1), now) == (3, False)
    assert threads.thread_for_message(3, now, now) == (4, True)


def _store(channel, now, *, form):
    exchange = dict(
        channel_id=channel.pk, source="api", session_id="s", message="q", received_at=now,
        completion=Completion("a", "m", None, None, 0), replied_at=now,
    )
    if form == "sql":
        with connection.cursor() as cursor:
            cursor.execute(*statements._store_statement(*exchange.values(), None, None))
    else:
        statements._store_exchange_orm(
            channel.pk, "api", "s", "q", now, threads.expires_at_for(now), _reply(now), None, None
        )


def _reply(now):
    return Message(role=Message.Role.ASSISTANT, content="a", created_at=now, model="m", latency_ms=0)


@pytest.mark.parametrize("form", ["orm", pytest.param("sql", marks=on_postgresql)])
def test_both_forms_store_in_the_thread_the_rule_names(channel, form):
    start = timezone.now()
    expected = []
    for at in (start, start + timedelta(hours=1), start + timedelta(hours=30), start + timedelta(hours=31)):
        latest = Session.objects.filter(channel=channel, session_id="s").order_by("-thread").first()
        number, _ = threads.thread_for_message(latest.thread if latest else None, latest.expires_at if latest else None, at)
        expected.append(number)
        _store(channel, at, form=form)
    threads_stored = list(Session.objects.filter(channel=channel, session_id="s").order_by("thread"))
    assert expected == [1, 1, 2, 2]
    assert [(t.thread, t.expires_at) for t in threads_stored] == [
        (1, threads.expires_at_for(start)), (2, threads.expires_at_for(start + timedelta(hours=30)))
    ]


@on_postgresql
def test_both_forms_read_the_live_threads_history(channel):
    start = timezone.now()
    _store(channel, start, form="orm")
    for now in (start, start + timedelta(hours=23), start + timedelta(hours=25)):
        by_orm = selectors.thread_history(channel_id=channel.pk, source="api", session_id="s", now=now)
        _, by_sql = statements.hold_and_history(channel_id=channel.pk, source="api", session_id="s", now=now)
        assert by_sql == by_orm == ([("user", "q"), ("assistant", "a")] if now < start + timedelta(hours=24) else [])


def test_the_limit_windows():
    now = 1_700_000_000.5
    end = windows.minute_window_end("channel", now)
    assert now <= end < now + 60 and end % 60 == __import__("zlib").crc32(b"channel") % 60
    assert windows.minute_window_end("channel", end) == end  # a window is (end - 60, end]
    assert windows.minute_window_end("channel", end + 1) == end + 60
    assert windows.clock_minute(now) == 28_333_333
    assert windows.utc_day(now) == "20231114"
    assert windows.seconds_to_utc_midnight(now) == 86400 - int(now) % 86400
    assert windows.seconds_to_utc_midnight(time.time()) >= 1
