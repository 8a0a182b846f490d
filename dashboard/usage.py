"""A channel's usage per UTC day and per month, from the roll-ups (conversations/engine/rollups.py), for the dashboard.

Read from UsageDay and UsageLatency rows (a few shard rows per channel and day, and
per latency bucket, summed here), never from messages: a page's cost does not grow
with the history.

- Answered chats: replies stored by the chat store (one per successful /api/chat).
- Failed requests: every API request of the channel that got an error status,
  split into limits (429), refused (other 4xx: inactive, no credits, bad input)
  and provider errors (5xx). A stream that ended with `event: error` counts as
  a 5xx; one its client cut off after part of the reply is an answered chat.
- Requests: answered chats + failed requests (a successful /api/history call is
  not stored, so it is not counted).
- Tokens: prompt + completion tokens of the answered chats; cost: their price in
  US dollars (replies of a model without a price count nothing).
- Latency: the median and 95th percentile upstream latency, read from buckets.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from channels_app.models import Channel
from conversations.engine.rollups import quantile
from conversations.models import UsageDay, UsageLatency

DAYS = 30


@dataclass
class DayUsage:
    day: dt.date
    answered: int = 0
    limited: int = 0  # 429: per-minute or daily limit
    refused: int = 0  # other 4xx
    errors: int = 0  # 5xx
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)
    median_latency_ms: int | None = None
    p95_latency_ms: int | None = None

    @property
    def failed(self) -> int:
        return self.limited + self.refused + self.errors

    @property
    def requests(self) -> int:
        return self.answered + self.failed

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class UsageSummary:
    requests: int
    answered: int
    failed: int
    limited: int
    tokens: int
    cost: Decimal
    median_latency_ms: int | None
    p95_latency_ms: int | None = None

    @property
    def success_pct(self) -> int | None:
        return round(100 * self.answered / self.requests) if self.requests else None


@dataclass(frozen=True)
class MonthUsage:
    month: dt.date  # its first day
    requests: int
    answered: int
    tokens: int
    cost: Decimal


@dataclass(frozen=True)
class Usage:
    days: list[DayUsage]  # oldest first, today last
    summary: UsageSummary
    months: list[MonthUsage] = field(default_factory=list)  # newest first


MONTHS = 12  # the per-month table: this calendar month (UTC) and the 11 before it


def channel_usage(*, channel: Channel, days: int = DAYS, now: dt.datetime | None = None) -> Usage:
    """One DayUsage per UTC day of the last `days` days (today included), their totals, and the last MONTHS months."""
    return _usage({"channel": channel}, days=days, now=now)


def organisation_usage(*, organisation, days: int = DAYS, now: dt.datetime | None = None) -> Usage:
    """channel_usage's days, totals and months summed over every channel of the organisation."""
    return _usage({"channel__organisation": organisation}, days=days, now=now)


def _usage(scope: dict, *, days: int, now: dt.datetime | None) -> Usage:
    now = now or timezone.now()
    today = now.astimezone(dt.timezone.utc).date()
    first = today - dt.timedelta(days=days - 1)
    by_day = {first + dt.timedelta(days=i): DayUsage(day=first + dt.timedelta(days=i)) for i in range(days)}
    first_month = _months_before(today.replace(day=1), MONTHS - 1)
    months: dict[dt.date, DayUsage] = {}
    for row in UsageDay.objects.filter(**scope, day__gte=min(first, first_month), day__lte=today):
        values = {
            "answered": row.answered, "limited": row.limited, "refused": row.refused, "errors": row.errors,
            "prompt_tokens": row.prompt_tokens, "completion_tokens": row.completion_tokens, "cost": row.cost,
        }
        if row.day in by_day:  # a day's shards, of every channel in an organisation's scope, add up
            for name, value in values.items():
                setattr(by_day[row.day], name, getattr(by_day[row.day], name) + value)
        if row.day >= first_month:
            month = months.setdefault(row.day.replace(day=1), DayUsage(day=row.day.replace(day=1)))
            for name, value in values.items():
                setattr(month, name, getattr(month, name) + value)

    per_day: dict[dt.date, Counter] = defaultdict(Counter)
    overall: Counter = Counter()
    for day, bucket, count in UsageLatency.objects.filter(**scope, day__gte=first, day__lte=today).values_list(
        "day", "bucket", "count"
    ):
        per_day[day][bucket] += count
        overall[bucket] += count
    for day, counts in per_day.items():
        by_day[day].median_latency_ms = quantile(counts, 0.5)
        by_day[day].p95_latency_ms = quantile(counts, 0.95)
    ordered = [by_day[d] for d in sorted(by_day)]
    return Usage(
        days=ordered,
        summary=_summarize(ordered, overall),
        months=[
            MonthUsage(month=m.day, requests=m.requests, answered=m.answered, tokens=m.tokens, cost=m.cost)
            for m in sorted(months.values(), key=lambda m: m.day, reverse=True)
        ],
    )


def _months_before(month: dt.date, n: int) -> dt.date:
    year, index = divmod(month.year * 12 + month.month - 1 - n, 12)
    return dt.date(year, index + 1, 1)


def _summarize(days: list[DayUsage], latencies: Counter) -> UsageSummary:
    return UsageSummary(
        requests=sum(d.requests for d in days),
        answered=sum(d.answered for d in days),
        failed=sum(d.failed for d in days),
        limited=sum(d.limited for d in days),
        tokens=sum(d.tokens for d in days),
        cost=sum((d.cost for d in days), Decimal(0)),
        median_latency_ms=quantile(latencies, 0.5),
        p95_latency_ms=quantile(latencies, 0.95),
    )


ADMIN_COST_DAYS = 30


def _total_cost(rows, since: dt.date, group: str) -> Coalesce:
    total = rows.filter(day__gte=since).order_by().values(group).annotate(total=Sum("cost")).values("total")
    return Coalesce(Subquery(total, output_field=DecimalField(max_digits=20, decimal_places=10)), Decimal(0))


def channel_cost_since(since: dt.date) -> Coalesce:
    """A channel's cost in US dollars since UTC day `since`, from the roll-ups: an annotation for Channel querysets."""
    return _total_cost(UsageDay.objects.filter(channel=OuterRef("pk")), since, "channel")


def owner_cost_since(since: dt.date) -> Coalesce:
    """The cost of all the channel's owner's channels since `since`: an annotation for Channel querysets."""
    return _total_cost(UsageDay.objects.filter(channel__owner=OuterRef("owner")), since, "channel__owner")
