"""A channel's conversations as CSV or JSON Lines, one row per message, streamed in batches of any size.

Rows come in message order (the order they were stored), read by keyset pages
so memory stays flat however many there are. In CSV a cell that a spreadsheet
would run as a formula (starting with = + - @ or a tab/CR) gets a leading `'`;
JSON Lines carries the text exactly.
"""

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator, Iterable

from channels_app.models import Channel
from conversations.models import Message
from dashboard import transcripts
from gateway.infra.db import db_phase

BATCH = 500
COLUMNS = [
    "session_id", "visitor", "source", "thread", "thread_started_at", "page_url", "page_title", "role", "created_at",
    "content", "model", "feedback", "feedback_comment",
]  # fmt: skip
FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@db_phase  # off the event loop, and its connection handed back after each batch
def _batch(*, channel: Channel, after: int, since, until) -> list[dict]:
    rows = (
        Message.objects.filter(session__channel=channel, id__gt=after, **transcripts.started_between(since, until, through="session__"))
        .select_related("session", "feedback")
        .order_by("id")[:BATCH]
    )
    return [_row(m) for m in rows]


def _row(m: Message) -> dict:
    feedback = getattr(m, "feedback", None) if m.role == Message.Role.ASSISTANT else None
    return {
        "id": m.id,
        "session_id": m.session.session_id,
        "visitor": m.session.visitor_name,
        "source": m.session.source,
        "thread": m.session.thread,
        "thread_started_at": _iso(m.session.started_at),
        "page_url": m.session.page_url,
        "page_title": m.session.page_title,
        "role": m.role,
        "created_at": _iso(m.created_at),
        "content": m.content,
        "model": m.model,
        "feedback": feedback.rating if feedback else "",
        "feedback_comment": feedback.comment if feedback else "",
    }


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def rows(*, channel: Channel, since=None, until=None) -> AsyncIterator[dict]:
    after = 0
    while True:
        batch = await _batch(channel=channel, after=after, since=since, until=until)
        for row in batch:
            yield row
        if len(batch) < BATCH:
            return
        after = batch[-1]["id"]


def _csv_safe(value):
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def csv_lines(batch: Iterable[dict], *, header: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(COLUMNS)
    for row in batch:
        writer.writerow([_csv_safe(row[name]) for name in COLUMNS])
    return out.getvalue()


async def stream(*, channel: Channel, fmt: str, since=None, until=None) -> AsyncIterator[bytes]:
    """The export as encoded chunks, one per batch of rows."""
    if fmt == "csv":
        yield csv_lines([], header=True).encode("utf-8")
    chunk: list[dict] = []
    async for row in rows(channel=channel, since=since, until=until):
        chunk.append(row)
        if len(chunk) == BATCH:
            yield _encode(chunk, fmt)
            chunk = []
    if chunk:
        yield _encode(chunk, fmt)


def _encode(batch: list[dict], fmt: str) -> bytes:
    if fmt == "csv":
        return csv_lines(batch).encode("utf-8")
    return "".join(json.dumps({k: row[k] for k in COLUMNS}, ensure_ascii=False) + "\n" for row in batch).encode("utf-8")
