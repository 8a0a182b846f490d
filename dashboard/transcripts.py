"""Reads of sessions and transcripts for the owner dashboard, scoped to one channel."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, StrIndex, Upper
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from channels_app.models import Channel
from conversations.engine import threads
from conversations.models import AuditEvent, Message, Session, first_message_head

SESSIONS_PER_PAGE = 25


PREVIEW_CHARS = 120


def sessions_for_channel(
    *, channel: Channel, search: str = "", since: dt.date | None = None, until: dt.date | None = None,
    source: str | None = None,
) -> QuerySet:
    """The channel's threads, newest first, with message counts and the first message's start (`preview`).

    `search` finds threads by session_id or first message (`matching`); `since` and `until` (UTC days, both
    included) bound when a thread started; `source` keeps one namespace. Each filter is served by an
    index (models.Session.Meta, migrations 0010 and 0012); the counts are per-row subqueries, so a page of
    SESSIONS_PER_PAGE threads costs that many index lookups whatever the channel holds.
    """
    found = Session.objects.filter(channel=channel)
    if source:
        found = found.filter(source=source)
    found = found.filter(**started_between(since, until))
    if search:
        found = matching(found, search)
    messages = Message.objects.filter(session=OuterRef("pk"))
    first_message = messages.filter(role=Message.Role.USER).order_by("id")
    count = messages.order_by().values("session").annotate(n=Count("id")).values("n")
    return found.annotate(
        message_count=Coalesce(Subquery(count, output_field=IntegerField()), 0),
        last_message_at=Subquery(messages.order_by("-id").values("created_at")[:1]),
        preview=Subquery(first_message.values("content")[:1]),
    ).order_by("-started_at", "-id")


def matching(found: QuerySet, search: str) -> QuerySet:
    """The threads of `found` whose session_id or first message is `search`, or else contains it.

    An exact match comes first because it is what a pasted id or message is, and it is an index walk in the
    list's order (session_channel_id_recent, session_first_message_exact): a page costs a page of entries
    however large the channel. Only when nothing matches exactly does the search look for substrings, through
    the trigram indexes on PostgreSQL, whose cost grows with how many threads share the search's trigrams
    (docs/performance.md). So `seed-1` shows that session alone even when `seed-10` exists; `seed-` shows both.
    """
    by_id = found.filter(session_id=search)
    if by_id.exists():
        return by_id
    by_message = found.alias(head=first_message_head("first_message")).filter(
        head=first_message_head(Value(search)), first_message__iexact=search)
    if by_message.exists():
        return by_message
    return containing(found, search)


def containing(found: QuerySet, search: str) -> QuerySet:
    """The threads of `found` whose session_id or first message contains `search`, case ignored.

    The trigram indexes are asked for one word of the search only (one with a digit, else the longest), and the
    whole search is then checked on the rows they found. Asked for all of it, PostgreSQL reads the posting list of every trigram of the search,
    and a phrase's common words ("about my") have one entry per thread of every channel: 720 ms at 50 M messages
    for a phrase with one rare word, 6.6 ms for the rare word and the check (docs/performance.md, "Owner pages at scale").
    """
    words = [word for word in search.split() if len(word) >= 3]  # shorter ones have no trigram to look up
    # The rarest word is the best guess: one with a digit (an order number, an id), else the longest.
    needle = max(words, key=lambda word: (any(c.isdigit() for c in word), len(word))) if words else search
    if needle == search:  # one word, or none long enough: the search itself
        return found.filter(Q(session_id__icontains=search) | Q(first_message__icontains=search))
    return found.alias(
        id_at=StrIndex(Upper("session_id"), Upper(Value(search))),
        message_at=StrIndex(Upper("first_message"), Upper(Value(search))),
    ).filter(Q(session_id__icontains=needle, id_at__gt=0) | Q(first_message__icontains=needle, message_at__gt=0))


def started_between(since: dt.date | None, until: dt.date | None, *, through: str = "") -> dict:
    """Filter arguments for threads started on UTC days `since` to `until`, both included (either may be None)."""
    bounds = {}
    if since:
        bounds[f"{through}started_at__gte"] = dt.datetime.combine(since, dt.time.min, tzinfo=dt.timezone.utc)
    if until:
        bounds[f"{through}started_at__lt"] = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.timezone.utc)
    return bounds


@dataclass(frozen=True)
class SessionsPage:
    """One page of the list: threads older than a cursor (keyset), never counted or skipped with OFFSET."""

    object_list: list[Session]
    older: str | None  # the cursor of the next (older) page, None on the last
    newest: bool  # the first page (no cursor)

    @property
    def has_other_pages(self) -> bool:
        return self.older is not None or not self.newest


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def cursor_of(session: Session) -> str:
    """A page cursor: the thread's start in microseconds since the epoch and its id."""
    return f"{(session.started_at - _EPOCH) // dt.timedelta(microseconds=1)}_{session.pk}"


def _parse_cursor(cursor: str | None) -> tuple[dt.datetime, int] | None:
    try:
        micros, pk = (int(part) for part in (cursor or "").split("_"))
        return _EPOCH + dt.timedelta(microseconds=micros), pk
    except (ValueError, OverflowError):
        return None  # no cursor, or a bad one: the first page


def sessions_page(
    *, channel: Channel, search: str = "", since: dt.date | None = None, until: dt.date | None = None,
    source: str | None = None, before: str | None = None,
) -> SessionsPage:
    """The SESSIONS_PER_PAGE newest threads started before the cursor `before` (keyset on started_at, id)."""
    found = sessions_for_channel(channel=channel, search=search, since=since, until=until, source=source)
    after = _parse_cursor(before)
    if after:
        # started_at <= t bounds the index scan; the tie on t is broken by id.
        found = found.filter(started_at__lte=after[0]).exclude(started_at=after[0], id__gte=after[1])
    rows = list(found[: SESSIONS_PER_PAGE + 1])
    older = cursor_of(rows[SESSIONS_PER_PAGE - 1]) if len(rows) > SESSIONS_PER_PAGE else None
    return SessionsPage(object_list=rows[:SESSIONS_PER_PAGE], older=older, newest=after is None)


def get_thread_for_channel(*, channel: Channel, source: str, session_id: str, thread: int) -> Session:
    """One thread of the channel in one namespace (the same session_id may exist in both); 404 when there is none.

    A session_id with NUL cannot exist (PostgreSQL text cannot hold it; querying with one is a
    database error there), so it is a 404 without a query.
    """
    if "\x00" in session_id:
        raise Http404("No such session")
    return get_object_or_404(Session, channel=channel, source=source, session_id=session_id, thread=thread)


def thread_transcript(session: Session) -> list[Message]:
    """The thread's messages, oldest first, each with its feedback (if any) loaded."""
    return list(session.messages.select_related("feedback").order_by("id"))


def recent_audit_events(*, channel: Channel, limit: int = 10):
    return list(AuditEvent.objects.filter(channel=channel).select_related("actor").order_by("-created_at")[:limit])


def is_expired(session: Session, now: dt.datetime | None = None) -> bool:
    return not threads.is_live(session.expires_at, now or timezone.now())
