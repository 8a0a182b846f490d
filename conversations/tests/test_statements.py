"""The chat path's database phases (conversations/statements.py): one statement each on PostgreSQL, the ORM elsewhere.

CI runs this file on both; the API tests (test_concurrency, test_sessions,
test_idempotency, test_scale_out) exercise the same code through HTTP.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from conversations import selectors
from conversations.models import IdempotencyKey, Message, Session
from conversations.provider import Completion
from conversations.statements import hold_and_history, store_exchange


def reply(text: str, prompt_tokens=None, completion_tokens=None, latency_ms=0) -> Completion:
    return Completion(text, "m", prompt_tokens, completion_tokens, latency_ms)


def store(channel, session_id: str, question: str, reply_text: str, received_at=None, source="api", **extra) -> None:
    store_exchange(
        channel_id=channel.pk, source=source, session_id=session_id, message=question,
        received_at=received_at or timezone.now(), completion=reply(reply_text), replied_at=timezone.now(), **extra,
    )


def test_a_hold_takes_one_credit_and_reads_the_thread_oldest_first(channel):
    store(channel, "s", "q1", "a1")
    store(channel, "s", "q2", "a2")
    store(channel, "other", "x", "y")
    held, history = hold_and_history(channel_id=channel.pk, source="api", session_id="s", now=timezone.now())
    assert held
    assert history == [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2")]
    channel.refresh_from_db()
    assert channel.credits == 99


def test_no_credit_left_holds_nothing_and_never_goes_negative(channel):
    channel.__class__.objects.filter(pk=channel.pk).update(credits=0)
    held, _ = hold_and_history(channel_id=channel.pk, source="api", session_id="s", now=timezone.now())
    assert not held
    channel.refresh_from_db()
    assert channel.credits == 0


def test_a_new_session_has_no_history(channel):
    assert hold_and_history(channel_id=channel.pk, source="api", session_id="new", now=timezone.now()) == (True, [])


def test_history_is_the_last_messages_up_to_the_load_limit(channel, monkeypatch):
    monkeypatch.setattr(selectors, "HISTORY_LOAD_LIMIT", 3)
    for i in range(3):
        store(channel, "s", f"q{i}", f"a{i}")
    _, history = hold_and_history(channel_id=channel.pk, source="api", session_id="s", now=timezone.now())
    assert history == [("assistant", "a1"), ("user", "q2"), ("assistant", "a2")]


def test_an_expired_thread_is_not_history_and_the_next_exchange_starts_a_new_one(channel, settings):
    settings.SESSION_TTL_HOURS = 1
    long_ago = timezone.now() - timedelta(hours=2)
    store(channel, "s", "old q", "old a", received_at=long_ago)
    assert hold_and_history(channel_id=channel.pk, source="api", session_id="s", now=timezone.now())[1] == []
    now = timezone.now()
    store(channel, "s", "new q", "new a", received_at=now)
    threads = list(Session.objects.filter(channel=channel, session_id="s").order_by("thread"))
    assert [(t.thread, t.started_at, t.expires_at) for t in threads] == [
        (1, long_ago, long_ago + timedelta(hours=1)),
        (2, now, now + timedelta(hours=1)),
    ]
    assert [m.content for m in threads[1].messages.all()] == ["new q", "new a"]


def test_an_exchange_is_stored_whole_with_its_reply_fields(channel):
    received = timezone.now()
    store_exchange(
        channel_id=channel.pk, source="api", session_id="s", message="Hi", received_at=received,
        completion=reply("Hello", prompt_tokens=7, completion_tokens=3, latency_ms=12), replied_at=timezone.now(),
    )
    user, assistant = Message.objects.filter(session__channel=channel).order_by("id")
    assert (user.role, user.content, user.created_at, user.model, user.prompt_tokens) == ("user", "Hi", received, "", None)
    assert (assistant.role, assistant.content, assistant.model) == ("assistant", "Hello", "m")
    assert (assistant.prompt_tokens, assistant.completion_tokens, assistant.latency_ms) == (7, 3, 12)


def test_the_idempotency_answer_is_stored_with_the_exchange(channel):
    claim = IdempotencyKey.objects.create(channel=channel, key="k", fingerprint="f", created_at=timezone.now())
    answer = {"reply": "Hello \u00e9 \"quoted\"", "session_id": "s"}
    store(channel, "s", "Hi", "Hello", idempotency_claim=claim.pk, answer=answer)
    claim.refresh_from_db()
    assert claim.response == answer


def test_concurrent_first_exchanges_share_one_thread_each_question_next_to_its_answer(channel):
    def one(i):
        try:
            store(channel, "busy", f"q{i}", f"a{i}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(16)))
    assert Session.objects.filter(channel=channel, session_id="busy").count() == 1
    contents = list(Message.objects.filter(session__channel=channel).order_by("id").values_list("content", flat=True))
    assert len(contents) == 32
    assert all(a == "a" + q[1:] for q, a in zip(contents[::2], contents[1::2]))
