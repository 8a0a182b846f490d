"""The usage roll-ups (UsageDay, UsageLatency): written as chats and failures are recorded, read by the dashboard.

Each answered chat adds itself to its channel's row of the UTC day of its reply
in the same statement (PostgreSQL store) or transaction (ORM store) that stores
it; each failed request in the transaction that records it
(conversations/engine/services.py). The writes are `INSERT … ON CONFLICT DO UPDATE`
that add to the row, so concurrent chats never lose a count (the row lock orders
them). The SQL below runs unchanged on PostgreSQL and SQLite (3.24+).

A channel's day is kept in up to settings.USAGE_SHARDS rows (`shard`); each chat
or failure adds to one picked at random (`shard`). A single row per channel and
day would be locked by every chat of the channel until its statement commits
(a WAL flush), so a busy channel's chats would store one after the other;
spread over the shards they rarely meet. A day's usage is the sum of its shards:
every reader sums them (dashboard/usage.py, dashboard/usage.py, the dashboard
cards, the admin's cost); `rebuild` writes shard 0 only.

Latency is kept as counts per bucket (LATENCY_BUCKETS_MS); the median and the
95th percentile are read from them (`quantile`), as the lower bound of the bucket
that holds the rank: exact for latencies on a bucket bound, otherwise at most one
bucket low.
"""

import datetime as dt
import random
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate

from conversations.models import FailedRequest, Message, UsageDay, UsageLatency

# Lower bounds in milliseconds; a latency is in the last bucket whose bound it reaches.
LATENCY_BUCKETS_MS = (
    0, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 7500, 10000, 15000,
    20000, 30000, 60000,
)

# {guard}: the condition the row is written under; the PostgreSQL store's statement writes it only when the chat's
# credit hold was still there (conversations/engine/store/postgresql.py). The SELECT form (with a WHERE, which SQLite
# needs before ON CONFLICT) makes that possible.
USAGE_UPSERT_IF = """
INSERT INTO conversations_usageday
    (channel_id, day, shard, answered, limited, refused, errors, prompt_tokens, completion_tokens, cost, last_at)
SELECT %(u_channel)s, %(u_day)s, %(u_shard)s, %(u_answered)s, %(u_limited)s, %(u_refused)s, %(u_errors)s,
        %(u_prompt)s, %(u_completion)s, %(u_cost)s, %(u_last_at)s
WHERE {guard}
ON CONFLICT (channel_id, day, shard) DO UPDATE SET
    answered = conversations_usageday.answered + excluded.answered,
    limited = conversations_usageday.limited + excluded.limited,
    refused = conversations_usageday.refused + excluded.refused,
    errors = conversations_usageday.errors + excluded.errors,
    prompt_tokens = conversations_usageday.prompt_tokens + excluded.prompt_tokens,
    completion_tokens = conversations_usageday.completion_tokens + excluded.completion_tokens,
    cost = conversations_usageday.cost + excluded.cost,
    last_at = CASE WHEN conversations_usageday.last_at IS NULL OR excluded.last_at > conversations_usageday.last_at
                   THEN excluded.last_at ELSE conversations_usageday.last_at END
"""
USAGE_UPSERT = USAGE_UPSERT_IF.format(guard="true")

# A chat without a measured latency (u_bucket -1) inserts nothing.
LATENCY_UPSERT_IF = """
INSERT INTO conversations_usagelatency (channel_id, day, bucket, shard, count)
SELECT %(u_channel)s, %(u_day)s, %(u_bucket)s, %(u_shard)s, 1 WHERE %(u_bucket)s >= 0 AND {guard}
ON CONFLICT (channel_id, day, bucket, shard) DO UPDATE SET count = conversations_usagelatency.count + 1
"""
LATENCY_UPSERT = LATENCY_UPSERT_IF.format(guard="true")


def bucket_of(latency_ms: int) -> int:
    return max(0, bisect_right(LATENCY_BUCKETS_MS, latency_ms) - 1)


def failure_class(status: int) -> str:
    """The usage column a failed request's status counts in."""
    if status == 429:
        return "limited"
    return "errors" if status >= 500 else "refused"


def utc_day(at: dt.datetime) -> dt.date:
    return at.astimezone(dt.timezone.utc).date()


def shard() -> int:
    """The shard row one chat or failure adds to (see the module's docstring)."""
    return random.randrange(max(1, settings.USAGE_SHARDS))


def answered_params(
    *, channel_id: int, replied_at: dt.datetime, prompt_tokens: int | None, completion_tokens: int | None,
    cost: Decimal | None, latency_ms: int | None,
) -> dict:
    """USAGE_UPSERT's and LATENCY_UPSERT's parameters for one answered chat."""
    return {
        "u_channel": channel_id, "u_day": utc_day(replied_at), "u_shard": shard(), "u_answered": 1, "u_limited": 0,
        "u_refused": 0, "u_errors": 0, "u_prompt": prompt_tokens or 0, "u_completion": completion_tokens or 0,
        "u_cost": cost or Decimal(0), "u_last_at": replied_at,
        "u_bucket": -1 if latency_ms is None else bucket_of(latency_ms),
    }


def failure_params(*, channel_id: int, at: dt.datetime, status: int) -> dict:
    """USAGE_UPSERT's parameters for one failed request."""
    params = {"u_channel": channel_id, "u_day": utc_day(at), "u_shard": shard(), "u_answered": 0, "u_limited": 0,
              "u_refused": 0, "u_errors": 0, "u_prompt": 0, "u_completion": 0, "u_cost": Decimal(0), "u_last_at": None}
    params["u_" + failure_class(status)] = 1
    return params


def _adapted(params: dict) -> dict:
    """`params` as Django's connection stores dates, times and decimals (raw SQL skips the fields' adaptation)."""
    ops = connection.ops
    adapted = dict(params)
    adapted["u_day"] = ops.adapt_datefield_value(params["u_day"])
    adapted["u_last_at"] = ops.adapt_datetimefield_value(params["u_last_at"])
    adapted["u_cost"] = ops.adapt_decimalfield_value(params["u_cost"], 20, 10)
    return adapted


def add_answered(**kwargs) -> None:
    """Count one answered chat (answered_params' arguments), on Django's connection: call inside the
    transaction that stores it."""
    params = _adapted(answered_params(**kwargs))
    with connection.cursor() as cursor:
        cursor.execute(USAGE_UPSERT, params)
        if params["u_bucket"] >= 0:
            cursor.execute(LATENCY_UPSERT, params)


def add_failure(*, channel_id: int, at: dt.datetime, status: int) -> None:
    """Count one failed request, on Django's connection: call inside the transaction that records it."""
    with connection.cursor() as cursor:
        cursor.execute(USAGE_UPSERT, _adapted(failure_params(channel_id=channel_id, at=at, status=status)))


def quantile(counts: dict[int, int], q: float) -> int | None:
    """The q-quantile (0.5: the median, as statistics.median takes it) of latencies counted per bucket."""
    total = sum(counts.values())
    if not total:
        return None

    def at_rank(rank: int) -> int:  # rank 0 = the fastest
        seen = 0
        for bucket in sorted(counts):
            seen += counts[bucket]
            if rank < seen:
                return LATENCY_BUCKETS_MS[bucket]
        return LATENCY_BUCKETS_MS[max(counts)]

    position = q * (total - 1)
    low, high = int(position), min(total - 1, int(position) + 1)
    if position == low:
        return at_rank(low)
    return round(at_rank(low) + (at_rank(high) - at_rank(low)) * (position - low))


@dataclass(frozen=True)
class Rebuilt:
    days: int
    latency_rows: int


def _latency_bucket_expression() -> Case:
    whens = [
        When(latency_ms__gte=bound, then=Value(i)) for i, bound in reversed(list(enumerate(LATENCY_BUCKETS_MS)))
    ]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def rebuild(*, since: dt.date, until: dt.date, channel_ids: list[int] | None = None) -> Rebuilt:
    """Recompute the roll-ups of UTC days `since`..`until` (both included) from stored messages and failed requests.

    Each rebuilt channel-day is one row of shard 0 (its other shards' rows are deleted). What retention
    already deleted cannot be counted again: rebuild only days still kept. Run it for closed days; chats recorded on a rebuilt day while it runs may be counted twice or not at all.
    """
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.timezone.utc)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.timezone.utc)
    scope = Q() if channel_ids is None else Q(channel_id__in=channel_ids)
    message_scope = Q() if channel_ids is None else Q(session__channel_id__in=channel_ids)
    replies = Message.objects.filter(
        message_scope, role=Message.Role.ASSISTANT, created_at__gte=start, created_at__lt=end
    ).annotate(day=TruncDate("created_at", tzinfo=dt.timezone.utc))
    rows: dict[tuple[int, dt.date], UsageDay] = {}

    def row(channel_id: int, day: dt.date) -> UsageDay:
        return rows.setdefault((channel_id, day), UsageDay(channel_id=channel_id, day=day))

    for r in replies.values("session__channel_id", "day").annotate(
        n=Count("id"), prompt=Coalesce(Sum("prompt_tokens"), 0), completion=Coalesce(Sum("completion_tokens"), 0),
        cost=Sum("cost"), last=Max("created_at"),
    ):
        usage = row(r["session__channel_id"], r["day"])
        usage.answered, usage.prompt_tokens, usage.completion_tokens = r["n"], r["prompt"], r["completion"]
        usage.cost, usage.last_at = r["cost"] or Decimal(0), r["last"]
    latencies = [
        UsageLatency(channel_id=r["session__channel_id"], day=r["day"], bucket=r["bucket"], count=r["n"])
        for r in replies.filter(latency_ms__isnull=False)
        .annotate(bucket=_latency_bucket_expression())
        .values("session__channel_id", "day", "bucket")
        .annotate(n=Count("id"))
    ]
    failures = FailedRequest.objects.filter(scope, created_at__gte=start, created_at__lt=end)
    for r in (
        failures.annotate(day=TruncDate("created_at", tzinfo=dt.timezone.utc))
        .values("channel_id", "day", "status")
        .annotate(n=Count("id"))
    ):
        usage = row(r["channel_id"], r["day"])
        name = failure_class(r["status"])
        setattr(usage, name, getattr(usage, name) + r["n"])
    with transaction.atomic():
        UsageDay.objects.filter(scope, day__gte=since, day__lte=until).delete()
        UsageLatency.objects.filter(scope, day__gte=since, day__lte=until).delete()
        UsageDay.objects.bulk_create(rows.values(), batch_size=1000)
        UsageLatency.objects.bulk_create(latencies, batch_size=1000)
    return Rebuilt(days=len(rows), latency_rows=len(latencies))
