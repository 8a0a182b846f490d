"""Writes of the knowledge app: add, refresh and remove sources. Each queues the ingestion; none waits for it.

Every bad input is a ValidationError with the message the owner sees, and
nothing is stored. The channel's caps on sources, pages and file size are
checked here; pages and text again when the ingestion knows them
(knowledge/ingestion.py).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from channels_app.models import Channel
from gateway.infra import jobs
from knowledge import extraction, readiness, retrieval
from knowledge.crawler import normalise
from knowledge.errors import SourceError
from knowledge.models import Answer, Source

TITLE_MAX = 300
TEXT_MAX = 200_000


def _check_room(channel: Channel) -> None:
    if Source.objects.filter(channel=channel).count() >= settings.KNOWLEDGE_MAX_SOURCES:
        raise ValidationError(f"This channel already has {settings.KNOWLEDGE_MAX_SOURCES} sources: remove one first.")


def _create(**fields) -> Source:
    with transaction.atomic():
        source = Source.objects.create(**fields)
        jobs.enqueue("knowledge.ingest", source_id=source.pk)
    return source


def source_add_site(*, channel: Channel, url: str, max_pages: int | None = None, path_prefix: str = "") -> Source:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter the site's address as an http:// or https:// URL.")
    if len(url) > 2000:
        raise ValidationError("The URL is too long (at most 2000 characters).")
    max_pages = settings.KNOWLEDGE_MAX_PAGES if max_pages is None else max_pages
    if not 1 <= max_pages <= settings.KNOWLEDGE_MAX_PAGES:
        raise ValidationError(f"The page limit must be between 1 and {settings.KNOWLEDGE_MAX_PAGES}.")
    path_prefix = (path_prefix or "").strip()
    if path_prefix and not path_prefix.startswith("/"):
        raise ValidationError("The path prefix must start with /.")
    _check_room(channel)
    return _create(
        channel=channel, kind=Source.Kind.SITE, title=parts.hostname + (parts.path if parts.path != "/" else ""),
        url=normalise(url), max_pages=max_pages, path_prefix=path_prefix[:500],
    )


def source_add_file(*, channel: Channel, name: str, data: bytes) -> Source:
    name = (name or "").strip().replace("\\", "/").rsplit("/", 1)[-1][:255]
    if not name:
        raise ValidationError("The file has no name.")
    try:
        extraction.kind_of(name)
    except SourceError as exc:
        raise ValidationError(str(exc)) from None
    if not data:
        raise ValidationError("The file is empty.")
    if len(data) > settings.KNOWLEDGE_MAX_FILE_BYTES:
        raise ValidationError(f"The file is larger than {settings.KNOWLEDGE_MAX_FILE_BYTES:,} bytes.")
    _check_room(channel)
    return _create(channel=channel, kind=Source.Kind.FILE, title=name, file_name=name, file_data=data)


def _check_text(title: str, text: str, *, what: str) -> tuple[str, str]:
    title, text = (title or "").strip(), (text or "").strip()
    if not title:
        raise ValidationError(f"The {what} is required.")
    if len(title) > TITLE_MAX:
        raise ValidationError(f"The {what} is too long (at most {TITLE_MAX} characters).")
    if not text:
        raise ValidationError("The text is required." if what == "title" else "The answer is required.")
    if len(text) > TEXT_MAX:
        raise ValidationError(f"The text is too long (at most {TEXT_MAX:,} characters).")
    return title, text


def source_add_text(*, channel: Channel, title: str, text: str) -> Source:
    title, text = _check_text(title, text, what="title")
    _check_room(channel)
    return _create(channel=channel, kind=Source.Kind.TEXT, title=title, text=text)


def source_add_qa(*, channel: Channel, question: str, answer: str) -> Source:
    question, answer = _check_text(question, answer, what="question")
    _check_room(channel)
    return _create(channel=channel, kind=Source.Kind.QA, title=question, text=answer)


def source_refresh(*, source: Source) -> None:
    """Queue the source's ingestion again (its pages stay searchable until the new ones replace them)."""
    with transaction.atomic():
        updated = Source.objects.filter(pk=source.pk).exclude(status=Source.Status.PROCESSING).update(
            status=Source.Status.PENDING
        )
        if updated:
            jobs.enqueue("knowledge.ingest", source_id=source.pk)


def refresh_all(channel: Channel | None = None) -> int:
    """Queue every source (of `channel`, or of all channels) not already being worked on; how many."""
    sources = Source.objects.exclude(status=Source.Status.PROCESSING)
    if channel is not None:
        sources = sources.filter(channel=channel)
    count = 0
    for source in sources.only("pk"):
        source_refresh(source=source)
        count += 1
    return count


def source_remove(*, source: Source) -> None:
    with transaction.atomic():
        source.delete()  # its pages and chunks go with it
        retrieval.backend().chunks_changed(source.channel_id)
    readiness.forget()


def answer_record(*, channel_id: int, session_id: str, question: str, asked_at, sources: list[dict]) -> None:
    Answer.objects.create(
        channel_id=channel_id, session_id=session_id, question=question[:4000], asked_at=asked_at, sources=sources
    )


def unanswered_dismiss(*, channel: Channel, answer_id: int) -> None:
    Answer.objects.filter(channel=channel, pk=answer_id).update(dismissed=True)


def answers_erase(*, channel: Channel, session_id: str) -> int:
    """Delete the record of a session's grounded replies (its questions are the visitor's words): erasure."""
    return Answer.objects.filter(channel=channel, session_id=session_id).delete()[0]


def answers_purge(*, channel: Channel, before, batch: int) -> int:
    """Delete, in batches of `batch`, the records of replies asked before `before`: the channel's retention."""
    rows = Answer.objects.filter(channel=channel, asked_at__lt=before)
    deleted = 0
    while ids := list(rows.values_list("id", flat=True)[:batch]):
        with transaction.atomic():
            deleted += Answer.objects.filter(id__in=ids).delete()[0]
    return deleted
