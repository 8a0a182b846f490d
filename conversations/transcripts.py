"""Reads of sessions and transcripts for the owner dashboard, scoped to one channel."""

import datetime as dt

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from channels_app.models import Channel
from conversations import threads
from conversations.models import AuditEvent, Message, Session

SESSIONS_PER_PAGE = 25


PREVIEW_CHARS = 120


def sessions_for_channel(
    *, channel: Channel, search: str = "", since: dt.date | None = None, until: dt.date | None = None
) -> QuerySet:
    """The channel's threads, newest first, with message counts and the first message's start (`preview`).

    `search` matches session_id; `since` and `until` (UTC days, both included) bound when a thread started.
    """
    found = Session.objects.filter(channel=channel)
    if search:
        found = found.filter(session_id__icontains=search)
    found = found.filter(**started_between(since, until))
    first_message = Message.objects.filter(session=OuterRef("pk"), role=Message.Role.USER).order_by("id")
    return found.annotate(
        message_count=Count("messages"),
        last_message_at=Max("messages__created_at"),
        preview=Subquery(first_message.values("content")[:1]),
    ).order_by("-started_at", "-id")


def started_between(since: dt.date | None, until: dt.date | None, *, through: str = "") -> dict:
    """Filter arguments for threads started on UTC days `since` to `until`, both included (either may be None)."""
    bounds = {}
    if since:
        bounds[f"{through}started_at__gte"] = dt.datetime.combine(since, dt.time.min, tzinfo=dt.timezone.utc)
    if until:
        bounds[f"{through}started_at__lt"] = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.timezone.utc)
    return bounds


def sessions_page(
    *, channel: Channel, search: str = "", since: dt.date | None = None, until: dt.date | None = None,
    page: str | int | None = 1,
) -> Page:
    found = sessions_for_channel(channel=channel, search=search, since=since, until=until)
    return Paginator(found, SESSIONS_PER_PAGE).get_page(page)


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
