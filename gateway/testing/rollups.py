"""For tests that write messages or failed requests straight through the ORM (as fixtures), bypassing the chat
store: recompute the usage roll-ups from them, as `manage.py rebuild_usage` does. And for tests that read the
roll-ups: a channel's totals summed over its shard rows, as every page sums them."""

import datetime as dt

from django.db.models import Count, Max, Sum
from django.utils import timezone

from conversations.engine import rollups
from conversations.models import UsageDay, UsageLatency


def rebuild_all_usage() -> None:
    today = timezone.now().astimezone(dt.timezone.utc).date()
    rollups.rebuild(since=today - dt.timedelta(days=400), until=today + dt.timedelta(days=1))


USAGE_FIELDS = ("answered", "limited", "refused", "errors", "prompt_tokens", "completion_tokens", "cost")


def usage_totals(channel, day: dt.date | None = None) -> dict:
    """A channel's UsageDay counts summed over its shards (and days, unless `day` names one), plus `last_at`
    (the latest) and `days` (the distinct days counted)."""
    rows = UsageDay.objects.filter(channel=channel, **({} if day is None else {"day": day}))
    totals = rows.aggregate(**{name: Sum(name) for name in USAGE_FIELDS}, last_at=Max("last_at"),
                            days=Count("day", distinct=True))
    return {name: (value if value is not None else 0) for name, value in totals.items()} | {
        "last_at": totals["last_at"]
    }


def latency_counts(channel, day: dt.date | None = None) -> dict[int, int]:
    """A channel's UsageLatency counts per bucket, summed over its shards (and days, unless `day` names one)."""
    rows = UsageLatency.objects.filter(channel=channel, **({} if day is None else {"day": day}))
    return dict(rows.order_by().values("bucket").annotate(n=Sum("count")).values_list("bucket", "n"))
