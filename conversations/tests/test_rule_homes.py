"""Rules with one home and a second, SQL form for the PostgreSQL store's single statements: both forms pinned together.

The credit hold (channels_app.services.credit_hold / CREDIT_HOLD_SQL), the thread
rule and the session expiry (conversations/engine/threads.py, and conversations/engine/store/postgresql.py's
SQL). The SQL forms run on PostgreSQL only (CI runs this file there too); the rule
functions and the ORM forms run everywhere.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_app.models import Channel
from channels_app.providers.provider import Completion
from channels_app.services import (
    CREDIT_HOLD_SQL,
    CREDIT_RELEASE_ORGANISATION_SQL,
    CREDIT_RELEASE_SQL,
    HELD_FROM_CHANNEL,
    HELD_FROM_ORGANISATION,
    KEY_CREDIT_RELEASE_SQL,
    credit_hold,
    credit_hold_params,
    credit_release,
)
from conversations.engine import selectors, threads, windows
from conversations.engine.store import Exchange
from conversations.models import Session
from gateway.testing.api import credits as credits_of
from gateway.testing.implementations import STORES, run
from teams.models import Organisation

on_postgresql = pytest.mark.postgres


@on_postgresql
@pytest.mark.parametrize("draws", [False, True])
@pytest.mark.parametrize("credits", [0, 1, 2])
def test_the_credit_hold_sql_is_credit_holds_rule(channel, credits, draws):
    """Where the credit comes from: the channel's own, or its organisation's when it draws from it."""
    Channel.objects.filter(pk=channel.pk).update(draws_from_organisation=draws)
    pool = Organisation.objects.filter(pk=channel.organisation_id) if draws else Channel.objects.filter(pk=channel.pk)
    other = Channel.objects.filter(pk=channel.pk) if draws else Organisation.objects.filter(pk=channel.organisation_id)
    other.update(credits=50)

    pool.update(credits=credits)
    by_orm = credit_hold(channel_id=channel.pk)
    after_orm = pool.get().credits

    pool.update(credits=credits)
    with connection.cursor() as cursor:
        cursor.execute(CREDIT_HOLD_SQL, credit_hold_params(channel_id=channel.pk))
        rows = cursor.fetchall()
    by_sql = (HELD_FROM_ORGANISATION if rows[0][0] else HELD_FROM_CHANNEL) if rows else None

    where = HELD_FROM_ORGANISATION if draws else HELD_FROM_CHANNEL
    assert (by_sql, pool.get().credits) == (by_orm, after_orm) == (where if credits else None, max(0, credits - 1))
    assert other.get().credits == 50  # the other pool is never touched


@pytest.mark.parametrize("credits", [0, 1, 2])
def test_the_orm_credit_hold_takes_only_while_there_is_one(channel, credits):
    Channel.objects.filter(pk=channel.pk).update(credits=credits)
    assert credit_hold(channel_id=channel.pk) == (HELD_FROM_CHANNEL if credits else None)
    assert credits_of(channel) == max(0, credits - 1)


@on_postgresql
def test_the_credit_release_sql_is_credit_releases_rule(channel):
    credit_release(channel_id=channel.pk)
    by_orm = credits_of(channel)
    with connection.cursor() as cursor:
        cursor.execute(CREDIT_RELEASE_SQL, {"channel": channel.pk})
    assert (by_orm, credits_of(channel)) == (101, 102)
    org = Organisation.objects.filter(pk=channel.organisation_id)
    credit_release(channel_id=channel.pk, held_from=HELD_FROM_ORGANISATION)
    by_orm = org.get().credits
    with connection.cursor() as cursor:
        cursor.execute(CREDIT_RELEASE_ORGANISATION_SQL, {"channel": channel.pk})
    assert (by_orm, org.get().credits, credits_of(channel)) == (1, 2, 102)


@on_postgresql
@pytest.mark.parametrize("credits", [0, 1])
@pytest.mark.parametrize("spent", [0, 1, 2])
def test_the_credit_hold_sql_is_credit_holds_rule_for_a_capped_key(channel, credits, spent):
    """A key with a credit cap of 2: a credit is held only with room under it, and counted there only when held."""
    api_key = channel.api_keys.get()
    keys = type(api_key).objects.filter(pk=api_key.pk)
    outcomes = []
    for form in ("orm", "sql"):
        keys.update(credit_cap=2, credits_spent=spent)
        Channel.objects.filter(pk=channel.pk).update(credits=credits)
        if form == "orm":
            held = credit_hold(channel_id=channel.pk, key_id=api_key.pk, capped=True)
        else:
            with connection.cursor() as cursor:
                cursor.execute(CREDIT_HOLD_SQL, credit_hold_params(channel_id=channel.pk, key_id=api_key.pk, capped=True))
                rows = cursor.fetchall()
                if not rows and spent < 2:  # the store gives a counted cap back when the channel had no credit
                    cursor.execute(KEY_CREDIT_RELEASE_SQL, {"key": api_key.pk})
            held = HELD_FROM_CHANNEL if rows else None
        outcomes.append((held, credits_of(channel), keys.get().credits_spent))
    room = credits and spent < 2
    assert outcomes[0] == outcomes[1] == (
        HELD_FROM_CHANNEL if room else None, credits - 1 if room else credits, spent + 1 if room else spent
    )


def test_the_credit_hold_sql_names_the_channel_table():
    assert f"UPDATE {Channel._meta.db_table} " in CREDIT_HOLD_SQL


def test_the_session_expiry_and_the_thread_rule():
    now = timezone.now()
    assert threads.expires_at_for(now) - now == timedelta(hours=24)  # SESSION_TTL_HOURS' default
    assert threads.is_live(now + timedelta(seconds=1), now) and not threads.is_live(now, now)
    assert threads.thread_for_message(None, None, now) == (1, True)
    assert threads.thread_for_message(3, now + timedelta(seconds=1), now) == (3, False)
    assert threads.thread_for_message(3, now, now) == (4, True)


def _store(store, channel, now):
    run(store.store_exchange(Exchange(
        channel_id=channel.pk, source="api", session_id="s", message="q", received_at=now,
        completion=Completion("a", "m", None, None, 0), replied_at=now,
    )))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("store", STORES)
def test_every_store_stores_in_the_thread_the_rule_names(channel, store):
    start = timezone.now()
    expected = []
    for at in (start, start + timedelta(hours=1), start + timedelta(hours=30), start + timedelta(hours=31)):
        latest = Session.objects.filter(channel=channel, session_id="s").order_by("-thread").first()
        number, _ = threads.thread_for_message(latest.thread if latest else None, latest.expires_at if latest else None, at)
        expected.append(number)
        _store(store(), channel, at)
    threads_stored = list(Session.objects.filter(channel=channel, session_id="s").order_by("thread"))
    assert expected == [1, 1, 2, 2]
    assert [(t.thread, t.expires_at) for t in threads_stored] == [
        (1, threads.expires_at_for(start)), (2, threads.expires_at_for(start + timedelta(hours=30)))
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("store", STORES)
def test_every_store_reads_the_live_threads_history_as_the_selector_does(channel, store):
    start = timezone.now()
    _store(store(), channel, start)
    for now in (start, start + timedelta(hours=23), start + timedelta(hours=25)):
        by_selector = selectors.thread_history(channel_id=channel.pk, source="api", session_id="s", now=now)
        held = run(store().hold_and_history(channel_id=channel.pk, source="api", session_id="s", now=now))
        assert held.history == by_selector == ([("user", "q"), ("assistant", "a")] if now < start + timedelta(hours=24) else [])


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
