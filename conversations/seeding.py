"""Demo data at scale for one channel (`manage.py seed_demo_data`): threads of four messages (two exchanges)
spread evenly over the last `days` days, one failed request per `failed_every` threads, then the usage
roll-ups rebuilt for those days.

On PostgreSQL every batch is three `INSERT … SELECT … FROM generate_series` statements: the rows are
made by the database, not sent one by one (about a million messages a minute here). Elsewhere
(SQLite) the same rows go through bulk_create. The vendor choice lives in this one function pair
(`_insert_batch`), as pretix keeps its locking's in one.
"""

import datetime as dt
import secrets
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from channels_app.models import Channel
from conversations.engine import rollups
from conversations.models import FailedRequest, Message, Session

TOPICS = ("parcel", "refund", "opening hours", "pricing", "password reset", "invoice", "delivery", "warranty")
MESSAGES_PER_THREAD = 4

# One statement per batch: the threads, and their four messages each from what the INSERT returned.
PG_THREADS = """
WITH thread AS (
    INSERT INTO conversations_session
        (channel_id, source, session_id, thread, started_at, expires_at, page_url, page_title, first_message)
    SELECT %(channel)s, CASE WHEN i %% 3 = 0 THEN 'widget' ELSE 'api' END, %(prefix)s || i, 1,
           %(start)s::timestamptz + (i * %(step)s) * interval '1 microsecond',
           %(start)s::timestamptz + (i * %(step)s) * interval '1 microsecond' + interval '24 hours',
           'https://shop.example/help', 'Help',
           'Question ' || i || ' about my ' || (%(topics)s::text[])[1 + i %% %(n_topics)s]
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
    RETURNING id, started_at, first_message
)
INSERT INTO conversations_message
    (session_id, role, content, created_at, model, prompt_tokens, completion_tokens, latency_ms, tokens_estimated, cost)
SELECT t.id, CASE WHEN k %% 2 = 0 THEN 'user' ELSE 'assistant' END,
       CASE WHEN k = 0 THEN t.first_message WHEN k %% 2 = 0 THEN 'And another thing?' ELSE 'Here is what I found.' END,
       t.started_at + k * interval '20 seconds',
       CASE WHEN k %% 2 = 1 THEN 'llama-3.3-70b-versatile' ELSE '' END,
       CASE WHEN k %% 2 = 1 THEN 120 + t.id %% 400 END, CASE WHEN k %% 2 = 1 THEN 40 + t.id %% 200 END,
       CASE WHEN k %% 2 = 1 THEN 150 + (t.id * 7919) %% 2500 END, false,
       CASE WHEN k %% 2 = 1 THEN (120 + t.id %% 400) * 0.00000059 + (40 + t.id %% 200) * 0.00000079 END
FROM thread t, generate_series(0, 3) AS k
ORDER BY t.id, k
"""
PG_FAILURES = """
INSERT INTO conversations_failedrequest (channel_id, endpoint, status, error, created_at)
SELECT %(channel)s, 'chat', (ARRAY[429, 429, 403, 502])[1 + i %% 4], 'Seeded failure',
       %(start)s::timestamptz + (i * %(step)s * %(failed_every)s) * interval '1 microsecond'
FROM generate_series(%(first_failure)s::bigint, %(last_failure)s::bigint) AS i
"""


def seed(*, channel: Channel, sessions: int, days: int = 30, failed_every: int = 10, batch: int = 100_000,
         progress=None) -> dict[str, int]:
    """Add `sessions` threads (and their messages and failures) to `channel`; returns what was added."""
    now = timezone.now()
    start = now - dt.timedelta(days=days)
    step = max(1, int(dt.timedelta(days=days) / dt.timedelta(microseconds=1)) // max(1, sessions))
    run = secrets.token_hex(4)
    added = {"threads": 0, "messages": 0, "failed_requests": 0}
    for first in range(0, sessions, batch):
        last = min(sessions, first + batch) - 1
        with transaction.atomic():
            counts = _insert_batch(channel=channel, run=run, first=first, last=last, start=start, step=step,
                                   failed_every=failed_every)
        for name, n in counts.items():
            added[name] += n
        if progress:
            progress(added)
    rollups.rebuild(since=start.date(), until=now.date(), channel_ids=[channel.pk])
    return added


def _insert_batch(**kwargs) -> dict[str, int]:
    return _insert_batch_sql(**kwargs) if connection.vendor == "postgresql" else _insert_batch_orm(**kwargs)


def _failure_range(first: int, last: int, failed_every: int) -> tuple[int, int]:
    """The failures of threads first..last: one per `failed_every` threads, numbered by the thread they follow."""
    return -(-first // failed_every), last // failed_every


def _insert_batch_sql(*, channel, run, first, last, start, step, failed_every) -> dict[str, int]:
    params = {
        "channel": channel.pk, "prefix": f"seed-{run}-", "start": start, "step": step, "first": first, "last": last,
        "topics": list(TOPICS), "n_topics": len(TOPICS), "failed_every": failed_every,
    }
    params["first_failure"], params["last_failure"] = _failure_range(first, last, failed_every)
    with connection.cursor() as cursor:
        cursor.execute(PG_THREADS, params)
        messages = cursor.rowcount
        failures = 0
        if params["last_failure"] >= params["first_failure"]:
            cursor.execute(PG_FAILURES, params)
            failures = cursor.rowcount
    return {"threads": last - first + 1, "messages": messages, "failed_requests": failures}


def _insert_batch_orm(*, channel, run, first, last, start, step, failed_every) -> dict[str, int]:
    threads = []
    for i in range(first, last + 1):
        at = start + dt.timedelta(microseconds=i * step)
        threads.append(Session(
            channel=channel, source="widget" if i % 3 == 0 else "api", session_id=f"seed-{run}-{i}", thread=1,
            started_at=at, expires_at=at + dt.timedelta(hours=24), page_url="https://shop.example/help",
            page_title="Help", first_message=f"Question {i} about my {TOPICS[i % len(TOPICS)]}",
        ))
    Session.objects.bulk_create(threads, batch_size=2000)
    threads = list(Session.objects.filter(channel=channel, session_id__startswith=f"seed-{run}-",
                                          started_at__gte=threads[0].started_at,
                                          started_at__lte=threads[-1].started_at))
    messages = []
    for s in threads:
        for k in range(MESSAGES_PER_THREAD):
            reply = k % 2 == 1
            prompt, completion = 120 + s.pk % 400, 40 + s.pk % 200
            messages.append(Message(
                session=s, role="assistant" if reply else "user",
                content=s.first_message if k == 0 else ("Here is what I found." if reply else "And another thing?"),
                created_at=s.started_at + dt.timedelta(seconds=20 * k),
                model="llama-3.3-70b-versatile" if reply else "",
                prompt_tokens=prompt if reply else None, completion_tokens=completion if reply else None,
                latency_ms=150 + (s.pk * 7919) % 2500 if reply else None,
                cost=Decimal("0.00000059") * prompt + Decimal("0.00000079") * completion if reply else None,
            ))
    Message.objects.bulk_create(messages, batch_size=2000)
    low, high = _failure_range(first, last, failed_every)
    failures = [
        FailedRequest(channel=channel, endpoint="chat", status=(429, 429, 403, 502)[i % 4], error="Seeded failure")
        for i in range(low, high + 1)
    ]
    FailedRequest.objects.bulk_create(failures, batch_size=2000)
    for i, failure in zip(range(low, high + 1), failures):  # created_at is auto_now_add: set it after
        FailedRequest.objects.filter(pk=failure.pk).update(
            created_at=start + dt.timedelta(microseconds=i * step * failed_every))
    return {"threads": len(threads), "messages": len(messages), "failed_requests": len(failures)}
