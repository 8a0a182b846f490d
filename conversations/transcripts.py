"""Reads of sessions and transcripts for the owner dashboard, scoped to one channel."""

import datetime as dt

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from channels_app.models import Channel
from conversations import threads
from conversations.models import Message, Session

SESSIONS_PER_PAGE = 25


def sessions_for_channel(*, channel: Channel, search: str = "") -> QuerySet:
    """The channel's threads, newest first, with message counts; `search` matches session_id."""
    found = Session.objects.filter(channel=channel)
    if search:
        found = found.filter(session_id__icontains=search)
    return found.annotate(message_count=Count("messages"), last_message_at=Max("messages__created_at")).order_by(
        "-started_at", "-id"
    )


def sessions_page(*, channel: Channel, search: str = "", page: str | int | None = 1) -> Page:
    return Paginator(sessions_for_channel(channel=channel, search=search), SESSIONS_PER_PAGE).get_page(page)


def get_thread_for_channel(*, channel: Channel, source: str, session_id: str, thread: int) -> Session:
    """One thread of the channel in one namespace (the same session_id may exist in both); 404 when there is none.

    A session_id with NUL cannot exist (PostgreSQL text cannot hold it; querying with one is a
    database error there), so it is a 404 without a query.
    """
    if "\x00" in session_id:
        raise Http404("No such session")
    return get_object_or_404(Session, channel=channel, source=source, session_id=session_id, thread=thread)


def thread_transcript(session: Session) -> list[Message]:
    return list(session.messages.order_by("id"))


def is_expired(session: Session, now: dt.datetime | None = None) -> bool:
    return not threads.is_live(session.expires_at, now or timezone.now())
