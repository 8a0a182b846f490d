"""Reads of the knowledge app: a channel's sources, their preview, its usage against the caps, unanswered questions."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum

from channels_app.models import Channel
from knowledge.models import Answer, Page, Source

PREVIEW_CHARS = 1500


def sources_of(channel: Channel) -> list[Source]:
    return list(Source.objects.filter(channel=channel).defer("file_data", "text"))


def source_of(channel: Channel, source_id: int) -> Source | None:
    return Source.objects.filter(channel=channel, pk=source_id).defer("file_data").first()


def preview(source: Source) -> str:
    """The start of the source's extracted text (its first pages), for the owner to check."""
    out, size = [], 0
    for page in Page.objects.filter(source=source).only("title", "url", "text")[:5]:
        part = page.text[: PREVIEW_CHARS - size]
        out.append(part)
        size += len(part)
        if size >= PREVIEW_CHARS:
            break
    return "\n\n".join(out)


@dataclass(frozen=True)
class Usage:
    sources: int
    pages: int
    chars: int
    max_sources: int
    max_pages: int
    max_chars: int


def usage(channel: Channel) -> Usage:
    totals = Source.objects.filter(channel=channel).aggregate(pages=Sum("pages"), chars=Sum("chars"))
    return Usage(
        sources=Source.objects.filter(channel=channel).count(), pages=totals["pages"] or 0, chars=totals["chars"] or 0,
        max_sources=settings.KNOWLEDGE_MAX_SOURCES, max_pages=settings.KNOWLEDGE_MAX_PAGES,
        max_chars=settings.KNOWLEDGE_MAX_CHARS,
    )


def unanswered(channel: Channel, limit: int = 50) -> list[Answer]:
    """Recent questions that were given no source (the owner may add a Q&A pair for each)."""
    return list(Answer.objects.filter(channel=channel, sources=[], dismissed=False)[:limit])


def answers_for(channel: Channel, session_id: str) -> list[Answer]:
    """The sources each reply of a session was given, oldest first (the transcript shows them)."""
    return list(Answer.objects.filter(channel=channel, session_id=session_id).order_by("asked_at", "id"))


def sources_by_question_time(channel: Channel, session_id: str) -> dict:
    """asked_at → the sources that reply was given, for a session's replies (the transcript matches its messages)."""
    return {answer.asked_at: answer.sources for answer in answers_for(channel, session_id)}
