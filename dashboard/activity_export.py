"""The activity log as CSV, streamed: keyset batches read each in a database phase of its own, so memory stays flat
however many rows match (as dashboard/export.py streams conversations)."""

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator

from django.db.models import QuerySet

from conversations.models import Activity
from dashboard.activity_selectors import cursor_of, older_than, parse_cursor
from gateway.infra.db import db_phase

BATCH = 1000
COLUMNS = [
    "time", "channel", "key", "key_hint", "source", "endpoint", "session_id", "model", "prompt_tokens",
    "completion_tokens", "cost_usd", "latency_ms", "status", "outcome", "error",
]  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    """A cell a spreadsheet would run as a formula gets a leading ' (OWASP: CSV injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _row(a: Activity) -> list:
    return [_safe(value) for value in (
        a.created_at.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        a.channel.name, a.key_name, a.api_key.masked if a.api_key_id else "", a.source, a.endpoint, a.session_id,
        a.model, a.prompt_tokens, a.completion_tokens, a.cost, a.latency_ms, a.status, a.outcome, a.error,
    )]


@db_phase
def _batch(rows: QuerySet, cursor: str | None) -> tuple[str, str | None]:
    found = list(older_than(rows, parse_cursor(cursor)).select_related("api_key", "channel")[:BATCH])
    out = io.StringIO()
    writer = csv.writer(out)
    for activity in found:
        writer.writerow(_row(activity))
    return out.getvalue(), cursor_of(found[-1]) if len(found) == BATCH else None


async def stream(rows: QuerySet) -> AsyncIterator[bytes]:
    """`rows` (activity_selectors.activity_rows, newest first) as CSV, one chunk per batch."""
    out = io.StringIO()
    csv.writer(out).writerow(COLUMNS)
    yield out.getvalue().encode("utf-8")
    cursor = None
    while True:
        text, cursor = await _batch(rows, cursor)
        if text:
            yield text.encode("utf-8")
        if cursor is None:
            return
