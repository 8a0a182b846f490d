"""The PostgreSQL store's hold token (channels_app CreditHold): the hold commits without waiting for its WAL flush,
and the store and the release act only on a token they delete, so a hold a crash lost is neither stored nor given
back (channels_app/services.py CREDIT_HOLD_TOKEN; docs/performance.md, "The busy single channel").

A crash-restart loses the hold's UPDATE and its token together; `lose_the_hold` leaves the database as such a
recovery does, and test_a_real_crash_restart does it with a PostgreSQL server of its own.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_app.models import ApiKey, Channel, CreditHold
from channels_app.providers.provider import Completion
from channels_app.services import channel_create
from conversations.engine import limits
from conversations.engine.store import Exchange
from conversations.engine.store.postgresql import HOLD_AND_HISTORY, PostgreSQLStore
from conversations.models import Activity, IdempotencyKey, Message, Session, UsageDay
from gateway.testing.api import chat, chat_stream, credits
from gateway.testing.implementations import run
from gateway.testing.rollups import usage_totals

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the hold token is the PostgreSQL store's (DATABASE_URL on PostgreSQL)")


def hold(channel, key_id=None, capped=False, session_id="s"):
    return run(PostgreSQLStore().hold_and_history(
        channel_id=channel.pk, source="api", session_id=session_id, now=timezone.now(), key_id=key_id, capped=capped
    ))


def exchange(channel, token, session_id="s", **extra) -> Exchange:
    now = timezone.now()
    return Exchange(
        channel_id=channel.pk, source="api", session_id=session_id, message="q", received_at=now,
        completion=Completion("a", "m", 3, 4, 120), replied_at=now, hold_token=token, **extra,
    )


def lose_the_hold(token: int) -> None:
    """The database as a crash-restart leaves it when the hold's commit was not flushed: no token, no credit taken."""
    held = CreditHold.objects.get(pk=token)
    with connection.cursor() as cursor:  # one transaction: the recovery has neither
        cursor.execute("BEGIN")
        cursor.execute("DELETE FROM channels_app_credithold WHERE id = %s", [token])
        if held.held_from == "channel":
            cursor.execute("UPDATE channels_app_channel SET credits = credits + 1 WHERE id = %s", [held.channel_id])
        else:
            cursor.execute(
                "UPDATE teams_organisation SET credits = credits + 1 WHERE id = "
                "(SELECT organisation_id FROM channels_app_channel WHERE id = %s)", [held.channel_id],
            )
        if held.key_id is not None:
            cursor.execute("UPDATE channels_app_apikey SET credits_spent = credits_spent - 1 WHERE id = %s", [held.key_id])
        cursor.execute("COMMIT")


def test_the_hold_commits_without_waiting_for_its_flush_and_the_next_statement_waits_again(channel):
    params = {"channel": channel.pk, "key": None, "capped": False, "source": "api", "session": "s",
              "now": timezone.now(), "limit": 20}
    with connection.cursor() as cursor:  # autocommit: the statement is its own transaction, as on the store's pool
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
        cursor.execute(HOLD_AND_HISTORY, params)
        held, _, _, token, setting, *_ = cursor.fetchone()
        assert (held, setting) == (1, "off")  # set in the hold's transaction, so its commit does not wait
        assert CreditHold.objects.filter(pk=token, channel=channel, held_from="channel", key=None).exists()
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # is_local: gone with that transaction
        Channel.objects.filter(pk=channel.pk).update(credits=0)
        cursor.execute(HOLD_AND_HISTORY, params)
        held, _, _, token, setting, *_ = cursor.fetchone()
        assert (held, token, setting) == (0, None, None)  # nothing taken: synchronous, and no token


def test_a_store_deletes_its_token_and_then_a_release_gives_nothing_back(channel):
    found = hold(channel)
    assert found.held and CreditHold.objects.filter(pk=found.token).exists()
    assert run(PostgreSQLStore().store_exchange(exchange(channel, found.token))) is True
    assert not CreditHold.objects.exists()
    assert Message.objects.count() == 2
    run(PostgreSQLStore().release(channel_id=channel.pk, token=found.token))
    assert credits(channel) == 99  # spent once, stored once: the late release found no token


def test_a_store_whose_hold_was_lost_stores_nothing(channel):
    claim = IdempotencyKey.objects.create(channel=channel, key="k", fingerprint="f", created_at=timezone.now())
    found = hold(channel)
    lose_the_hold(found.token)
    x = exchange(channel, found.token, idempotency_claim=claim.pk, answer={"reply": "a", "session_id": "s"},
                 activity=None)
    assert run(PostgreSQLStore().store_exchange(x)) is False
    assert (Session.objects.count(), Message.objects.count(), UsageDay.objects.count()) == (0, 0, 0)
    assert IdempotencyKey.objects.get(pk=claim.pk).response is None
    assert credits(channel) == 100


def test_a_release_gives_back_once_and_only_with_its_token(channel):
    found = hold(channel)
    assert credits(channel) == 99
    run(PostgreSQLStore().release(channel_id=channel.pk, token=found.token))
    assert credits(channel) == 100
    run(PostgreSQLStore().release(channel_id=channel.pk, token=found.token))  # a second release: nothing
    assert credits(channel) == 100
    found = hold(channel)
    lose_the_hold(found.token)  # the crash gave it back already
    run(PostgreSQLStore().release(channel_id=channel.pk, token=found.token))
    assert credits(channel) == 100


def test_a_release_by_token_gives_back_where_it_was_taken_and_to_the_capped_key(owner, organisation_channel):
    channel, organisation = organisation_channel
    api_key = ApiKey.objects.filter(channel=channel).get()
    ApiKey.objects.filter(pk=api_key.pk).update(credit_cap=5)
    found = hold(channel, key_id=api_key.pk, capped=True)
    assert (found.held, found.held_from, found.key_spent) == (True, "organisation", True)
    assert CreditHold.objects.filter(pk=found.token, held_from="organisation", key_id=api_key.pk).exists()
    organisation.refresh_from_db()
    assert (organisation.credits, ApiKey.objects.get(pk=api_key.pk).credits_spent) == (49, 1)
    run(PostgreSQLStore().release(channel_id=channel.pk, token=found.token))
    organisation.refresh_from_db()
    assert (organisation.credits, ApiKey.objects.get(pk=api_key.pk).credits_spent, credits(channel)) == (50, 0, 0)


@pytest.fixture
def organisation_channel(owner):
    from teams.services import personal_organisation

    organisation = personal_organisation(owner)
    organisation.__class__.objects.filter(pk=organisation.pk).update(credits=50)
    channel, _ = channel_create(owner=owner, name="Shared", credits=0)
    Channel.objects.filter(pk=channel.pk).update(draws_from_organisation=True)
    organisation.refresh_from_db()
    return channel, organisation


def crash_while_upstream(channel, lost: list) -> None:
    """Lose the hold of the channel's chat in flight, as a crash-restart would, once its token is there."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        token = CreditHold.objects.filter(channel=channel).values_list("pk", flat=True).first()
        if token is not None:
            lose_the_hold(token)
            lost.append(token)
            return
        time.sleep(0.01)


@pytest.mark.live  # the PostgreSQL store runs in the server the test talks to
@pytest.mark.redis
def test_a_chat_whose_hold_was_lost_answers_503_and_spends_nothing(api, llm, channel, key):
    llm.latency = 1.0  # upstream long enough for the hold to be lost meanwhile
    lost = []
    crash = threading.Thread(target=crash_while_upstream, args=(channel, lost))
    crash.start()
    response = chat(api, key, "hello", session_id="lost")
    crash.join()
    assert lost, "the chat's hold token was never seen"
    assert response.status_code == 503
    assert response.json() == {"error": "Service temporarily unavailable. Please try again."}
    assert response.headers["Retry-After"] == "5"
    assert credits(channel) == 100  # nothing spent: the crash gave the credit back, the release gave nothing
    assert (Session.objects.count(), Message.objects.count()) == (0, 0)
    assert usage_totals(channel)["answered"] == 0
    assert not Activity.objects.filter(outcome="answered").exists()
    assert limits.daily_used(channel) == 0  # its daily slot went back with the failed chat
    assert not CreditHold.objects.exists()
    assert chat(api, key, "again", session_id="lost").status_code == 200  # the client's retry is answered
    assert credits(channel) == 99


@pytest.mark.live
@pytest.mark.redis
def test_a_streamed_chat_whose_hold_was_lost_ends_with_the_store_failure_error_and_spends_nothing(api, llm, channel, key):
    llm.latency = 1.0
    lost = []
    crash = threading.Thread(target=crash_while_upstream, args=(channel, lost))
    crash.start()
    response, events = chat_stream(api, key, "hello", session_id="lost-stream")
    crash.join()
    assert lost and response.status_code == 200
    assert events[-1] == ("error", {"error": "AI service error. Please try again."})  # as for any failed store
    assert "done" not in [name for name, _ in events]
    assert credits(channel) == 100
    assert (Session.objects.count(), Message.objects.count(), usage_totals(channel)["answered"]) == (0, 0, 0)
    assert limits.daily_used(channel) == 0


def test_tokens_older_than_the_bound_are_given_back_once_and_their_chats_then_store_nothing(channel, settings):
    from gateway.infra import jobs

    old, young = hold(channel, session_id="old"), hold(channel, session_id="young")
    CreditHold.objects.filter(pk=old.token).update(created_at=timezone.now() - timedelta(hours=2))
    assert credits(channel) == 98
    settings.CREDIT_HOLD_STALE_SECONDS = 3600
    jobs.load()["credits.give_back_stale_holds"].func()  # the periodic job, as its runner calls it
    assert credits(channel) == 99  # the old hold given back, the young one kept
    assert list(CreditHold.objects.values_list("pk", flat=True)) == [young.token]
    jobs.load()["credits.give_back_stale_holds"].func()
    assert credits(channel) == 99  # once
    assert run(PostgreSQLStore().store_exchange(exchange(channel, old.token, session_id="old"))) is False
    assert run(PostgreSQLStore().store_exchange(exchange(channel, young.token, session_id="young"))) is True
    assert (credits(channel), Message.objects.count()) == (99, 2)
