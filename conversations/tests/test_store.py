"""The chat store's contract (conversations/engine/store), run against every implementation: the ORM and PostgreSQL.

The API tests (test_concurrency, test_sessions, test_idempotency, test_scale_out)
exercise the chosen implementation through HTTP; these pin each one directly.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from channels_app.providers.provider import Completion
from conversations.engine import rollups, selectors
from conversations.engine.store import Exchange, Held
from conversations.models import IdempotencyKey, Message, Session, UsageDay, UsageLatency
from gateway.testing.implementations import STORES, run
from gateway.testing.rollups import latency_counts, usage_totals

pytestmark = pytest.mark.django_db(transaction=True)  # the PostgreSQL store uses its own connections


@pytest.fixture(params=STORES)
def store(request):
    return request.param()


def reply(text: str, prompt_tokens=None, completion_tokens=None, latency_ms=0) -> Completion:
    return Completion(text, "m", prompt_tokens, completion_tokens, latency_ms)


def exchange(channel, session_id, question, reply_text, received_at=None, source="api", **extra) -> Exchange:
    return Exchange(
        channel_id=channel.pk, source=source, session_id=session_id, message=question,
        received_at=received_at or timezone.now(), completion=reply(reply_text), replied_at=timezone.now(), **extra,
    )


def hold(store, channel, session_id="s", source="api", now=None) -> Held:
    return run(store.hold_and_history(channel_id=channel.pk, source=source, session_id=session_id, now=now or timezone.now()))


def test_a_hold_takes_one_credit_and_reads_the_thread_oldest_first(store, channel):
    for x in (exchange(channel, "s", "q1", "a1"), exchange(channel, "s", "q2", "a2"), exchange(channel, "other", "x", "y")):
        run(store.store_exchange(x))
    assert hold(store, channel) == Held(True, [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2")])
    channel.refresh_from_db()
    assert channel.credits == 99


def test_no_credit_left_holds_nothing_and_never_goes_negative(store, channel):
    channel.__class__.objects.filter(pk=channel.pk).update(credits=0)
    assert hold(store, channel) == Held(False, [])
    channel.refresh_from_db()
    assert channel.credits == 0


def test_a_release_gives_the_credit_back(store, channel):
    assert hold(store, channel).held
    run(store.release(channel_id=channel.pk))
    channel.refresh_from_db()
    assert channel.credits == 100


def test_concurrent_holds_never_overspend(store, channel):
    channel.__class__.objects.filter(pk=channel.pk).update(credits=5)

    async def many():
        import asyncio

        return await asyncio.gather(*[
            store.hold_and_history(channel_id=channel.pk, source="api", session_id=f"s{i}", now=timezone.now())
            for i in range(12)
        ])

    held = [h.held for h in run(many())]
    channel.refresh_from_db()
    assert (held.count(True), channel.credits) == (5, 0)


def test_a_new_session_has_no_history(store, channel):
    assert hold(store, channel, "new") == Held(True, [])


def test_namespaces_never_meet(store, channel):
    run(store.store_exchange(exchange(channel, "s", "backend q", "backend a", source="api")))
    assert hold(store, channel, "s", source="widget").history == []
    assert hold(store, channel, "s", source="api").history == [("user", "backend q"), ("assistant", "backend a")]


def test_history_is_the_last_messages_up_to_the_load_limit(store, channel, monkeypatch):
    monkeypatch.setattr(selectors, "HISTORY_LOAD_LIMIT", 3)
    for i in range(3):
        run(store.store_exchange(exchange(channel, "s", f"q{i}", f"a{i}")))
    assert hold(store, channel).history == [("assistant", "a1"), ("user", "q2"), ("assistant", "a2")]


def test_an_expired_thread_is_not_history_and_the_next_exchange_starts_a_new_one(store, channel, settings):
    settings.SESSION_TTL_HOURS = 1
    long_ago = timezone.now() - timedelta(hours=2)
    run(store.store_exchange(exchange(channel, "s", "old q", "old a", received_at=long_ago)))
    assert hold(store, channel).history == []
    now = timezone.now()
    run(store.store_exchange(exchange(channel, "s", "new q", "new a", received_at=now)))
    threads = list(Session.objects.filter(channel=channel, session_id="s").order_by("thread"))
    assert [(t.thread, t.started_at, t.expires_at) for t in threads] == [
        (1, long_ago, long_ago + timedelta(hours=1)),
        (2, now, now + timedelta(hours=1)),
    ]
    assert [m.content for m in threads[1].messages.order_by("id")] == ["new q", "new a"]


def test_an_exchange_is_stored_whole_with_its_reply_fields(store, channel):
    received = timezone.now()
    run(store.store_exchange(Exchange(
        channel_id=channel.pk, source="api", session_id="s", message="Hi", received_at=received,
        completion=reply("Hello", prompt_tokens=7, completion_tokens=3, latency_ms=12), replied_at=timezone.now(),
    )))
    user, assistant = Message.objects.filter(session__channel=channel).order_by("id")
    assert (user.role, user.content, user.created_at, user.model, user.prompt_tokens) == ("user", "Hi", received, "", None)
    assert (assistant.role, assistant.content, assistant.model) == ("assistant", "Hello", "m")
    assert (assistant.prompt_tokens, assistant.completion_tokens, assistant.latency_ms) == (7, 3, 12)


def test_the_idempotency_answer_is_stored_with_the_exchange(store, channel):
    claim = IdempotencyKey.objects.create(channel=channel, key="k", fingerprint="f", created_at=timezone.now())
    answer = {"reply": "Hello \u00e9 \"quoted\"", "session_id": "s"}
    run(store.store_exchange(exchange(channel, "s", "Hi", "Hello", idempotency_claim=claim.pk, answer=answer)))
    claim.refresh_from_db()
    assert claim.response == answer


def test_concurrent_first_exchanges_share_one_thread_each_question_next_to_its_answer(store, channel):
    def one(i):
        run(store.store_exchange(exchange(channel, "busy", f"q{i}", f"a{i}")))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(16)))
    assert Session.objects.filter(channel=channel, session_id="busy").count() == 1
    contents = list(Message.objects.filter(session__channel=channel).order_by("id").values_list("content", flat=True))
    assert len(contents) == 32
    assert all(a == "a" + q[1:] for q, a in zip(contents[::2], contents[1::2]))


def test_a_thread_shows_the_page_its_latest_message_named(store, channel):
    run(store.store_exchange(exchange(channel, "s", "q1", "a1", page_url="https://shop.example/a", page_title="A")))
    run(store.store_exchange(exchange(channel, "s", "q2", "a2")))  # no page named: the thread keeps its page
    session = Session.objects.get(channel=channel, session_id="s")
    assert (session.page_url, session.page_title) == ("https://shop.example/a", "A")
    run(store.store_exchange(exchange(channel, "s", "q3", "a3", page_url="https://shop.example/b", page_title="B")))
    session.refresh_from_db()
    assert (session.page_url, session.page_title) == ("https://shop.example/b", "B")


# The usage roll-up is written by the same statement (PostgreSQL) or transaction (ORM) as the exchange.


def test_an_exchange_adds_itself_to_its_days_usage_roll_up(store, channel):
    replied = timezone.now()
    for latency, cost in ((120, Decimal("0.0015")), (480, None)):
        run(store.store_exchange(Exchange(
            channel_id=channel.pk, source="api", session_id="s", message="Hi", received_at=replied,
            completion=reply("Hello", prompt_tokens=7, completion_tokens=3, latency_ms=latency), replied_at=replied,
            cost=cost,
        )))
    day = usage_totals(channel)
    assert (day["days"], day["answered"], day["limited"], day["refused"], day["errors"]) == (1, 2, 0, 0, 0)
    assert set(UsageDay.objects.filter(channel=channel).values_list("day", flat=True)) == {replied.date()}
    assert (day["prompt_tokens"], day["completion_tokens"], day["cost"], day["last_at"]) == (
        14, 6, Decimal("0.0015"), replied
    )
    assert latency_counts(channel) == {rollups.bucket_of(120): 1, rollups.bucket_of(480): 1}


def test_a_reply_without_latency_or_usage_counts_as_answered_only(store, channel):
    run(store.store_exchange(Exchange(
        channel_id=channel.pk, source="api", session_id="s", message="q", received_at=timezone.now(),
        completion=Completion("a", "m", None, None, None), replied_at=timezone.now(),
    )))
    day = usage_totals(channel)
    assert (day["answered"], day["prompt_tokens"], day["completion_tokens"], day["cost"]) == (1, 0, 0, Decimal(0))
    assert not UsageLatency.objects.filter(channel=channel).exists()


def test_parallel_exchanges_are_all_counted_in_the_roll_up(store, channel, settings):
    def one(i):
        run(store.store_exchange(exchange(channel, f"s{i % 3}", f"q{i}", f"a{i}", cost=Decimal("0.01"))))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(24)))
    day = usage_totals(channel)
    assert (day["days"], day["answered"], day["cost"]) == (1, 24, Decimal("0.24"))
    assert sum(latency_counts(channel).values()) == 24
    # Spread over the day's shard rows, not all on one row of the channel (a hot row on a busy channel):
    # 24 chats all on one of 8 shards by chance is a 1 in 8**23 event.
    rows = UsageDay.objects.filter(channel=channel).count()
    assert 1 < rows <= settings.USAGE_SHARDS
    assert UsageLatency.objects.filter(channel=channel).values("shard").distinct().count() > 1


def test_one_usage_shard_keeps_one_row_per_channel_and_day(store, channel, settings):
    settings.USAGE_SHARDS = 1
    for i in range(5):
        run(store.store_exchange(exchange(channel, f"s{i}", f"q{i}", f"a{i}")))
    assert list(UsageDay.objects.filter(channel=channel).values_list("shard", "answered")) == [(0, 5)]


def test_the_rebuilt_roll_up_equals_the_one_kept_as_chats_were_stored(store, channel):
    yesterday = timezone.now() - timedelta(days=1)
    run(store.store_exchange(Exchange(
        channel_id=channel.pk, source="api", session_id="old", message="q", received_at=yesterday,
        completion=reply("a", 5, 6, latency_ms=2200), replied_at=yesterday, cost=Decimal("0.5"),
    )))
    for i in range(3):
        run(store.store_exchange(Exchange(
            channel_id=channel.pk, source="api", session_id="s", message="q", received_at=timezone.now(),
            completion=reply("a", 1, 2, latency_ms=30 * i), replied_at=timezone.now(), cost=Decimal("0.25"),
        )))

    def snapshot():  # per day, summed over the shards (the rebuild writes one row per day)
        days = sorted(set(UsageDay.objects.filter(channel=channel).values_list("day", flat=True)))
        return (
            [(d, usage_totals(channel, d)) for d in days],
            [(d, latency_counts(channel, d)) for d in days],
        )

    kept = snapshot()
    assert len(kept[0]) == 2
    UsageDay.objects.all().update(answered=999)
    rollups.rebuild(since=yesterday.date(), until=timezone.now().date(), channel_ids=[channel.pk])
    assert snapshot() == kept
