"""A channel's usage per UTC day, from stored data, for the dashboard's charts.

- Answered chats: assistant Messages (one per successful /api/chat).
- Failed requests: FailedRequest rows, every API request of the channel that got
  an error status, split into limits (429), refused (other 4xx: inactive, no
  credits, bad input) and provider errors (5xx). A stream that ended with
  `event: error` writes its own row (500); one its client cut off after part of
  the reply is an answered chat (its part is stored).
- Requests: answered chats + failed requests (a successful /api/history call is
  not stored, so it is not counted).
- Tokens: prompt + completion tokens of the answered chats.
- Latency: the median upstream latency of the day's answered chats.
"""

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from channels_app.models import Channel
from conversations.models import FailedRequest, Message

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
    median_latency_ms: int | None = None

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
    median_latency_ms: int | None

    @property
    def success_pct(self) -> int | None:
        return round(100 * self.answered / self.requests) if self.requests else None


@dataclass(frozen=True)
class Usage:
    days: list[DayUsage]  # oldest first, today last
    summary: UsageSummary


def _bucket(status: int) -> str:
    if status == 429:
        return "limited"
    return "errors" if status >= 500 else "refused"


def channel_usage(*, channel: Channel, days: int = DAYS, now: dt.datetime | None = None) -> Usage:
    """One DayUsage per UTC day of the last `days` days (today included), and their totals."""
    now = now or timezone.now()
    today = now.astimezone(dt.timezone.utc).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time.min, tzinfo=dt.timezone.utc)
    by_day = {first + dt.timedelta(days=i): DayUsage(day=first + dt.timedelta(days=i)) for i in range(days)}

    replies = Message.objects.filter(
        session__channel=channel, role=Message.Role.ASSISTANT, created_at__gte=since, created_at__lte=now
    )
    for row in (
        replies.annotate(day=TruncDate("created_at", tzinfo=dt.timezone.utc))
        .values("day")
        .annotate(n=Count("id"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"))
    ):
        usage = by_day.get(row["day"])
        if usage:
            usage.answered = row["n"]
            usage.prompt_tokens = row["prompt"] or 0
            usage.completion_tokens = row["completion"] or 0

    # Medians are computed here rather than in SQL, so SQLite and PostgreSQL agree.
    latencies: dict[dt.date, list[int]] = defaultdict(list)
    all_latencies: list[int] = []
    for created_at, latency in replies.filter(latency_ms__isnull=False).values_list("created_at", "latency_ms"):
        latencies[created_at.astimezone(dt.timezone.utc).date()].append(latency)
        all_latencies.append(latency)
    for day, values in latencies.items():
        if day in by_day:
            by_day[day].median_latency_ms = round(statistics.median(values))

    failures = FailedRequest.objects.filter(channel=channel, created_at__gte=since, created_at__lte=now)
    for row in (
        failures.annotate(day=TruncDate("created_at", tzinfo=dt.timezone.utc))
        .values("day", "status")
        .annotate(n=Count("id"))
    ):
        usage = by_day.get(row["day"])
        if usage:
            name = _bucket(row["status"])
            setattr(usage, name, getattr(usage, name) + row["n"])
    ordered = [by_day[d] for d in sorted(by_day)]
    return Usage(days=ordered, summary=_summarize(ordered, all_latencies))


def _summarize(days: list[DayUsage], latencies_ms: list[int]) -> UsageSummary:
    return UsageSummary(
        requests=sum(d.requests for d in days),
        answered=sum(d.answered for d in days),
        failed=sum(d.failed for d in days),
        limited=sum(d.limited for d in days),
        tokens=sum(d.tokens for d in days),
        median_latency_ms=round(statistics.median(latencies_ms)) if latencies_ms else None,
    )
