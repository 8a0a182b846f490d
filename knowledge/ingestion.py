"""Ingest one source (the `knowledge.ingest` job): extract, cut at headings, store its pages and chunks at once.

Runs in the background (gateway/infra/jobs), never on a chat's path. A source
whose first ingestion fails is `failed` with the reason; one that was ready
and fails a refresh stays ready with its earlier pages, the reason in `error`.
Either way the channel's other sources are untouched. The channel's caps
(pages, stored text) are checked before anything is replaced.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from knowledge import chunking, embeddings, extraction, readiness, retrieval
from knowledge.crawler import Crawl, CrawledPage, Known
from knowledge.errors import SourceError
from knowledge.models import Chunk, Page, Source

logger = logging.getLogger(__name__)


def ingest(source_id: int) -> None:
    claimed = Source.objects.filter(pk=source_id).exclude(status=Source.Status.PROCESSING).update(
        status=Source.Status.PROCESSING
    )
    if not claimed:  # removed meanwhile, or another run has it
        return
    source = Source.objects.get(pk=source_id)
    try:
        pages = documents_of(source)
        check_caps(source, pages)
        store(source, pages)
    except SourceError as exc:
        fail(source, str(exc))
    except Exception:
        logger.exception("Ingesting knowledge source %s failed", source_id)
        fail(source, "An internal error stopped the ingestion; try refreshing it.")
    finally:
        readiness.forget()


def documents_of(source: Source) -> list[CrawledPage]:
    if source.kind == Source.Kind.TEXT:
        return [CrawledPage("", source.title, source.text, "", "")]
    if source.kind == Source.Kind.QA:
        return [CrawledPage("", source.title, f"# {source.title}\n\n{source.text}", "", "")]
    if source.kind == Source.Kind.FILE:
        data = bytes(source.file_data or b"")
        document = extraction.extract(data, extraction.kind_of(source.file_name), title=source.file_name)
        return [CrawledPage("", document.title or source.file_name, document.text, "", "")]
    known = {
        page.url: Known(page.title, page.text, page.etag, page.last_modified)
        for page in Page.objects.filter(source=source).only("url", "title", "text", "etag", "last_modified")
    }
    return Crawl(source.url, max_pages=source.max_pages, path_prefix=source.path_prefix, known=known).run()


def check_caps(source: Source, pages: list[CrawledPage]) -> None:
    others = Source.objects.filter(channel_id=source.channel_id).exclude(pk=source.pk)
    used = others.aggregate(pages=Sum("pages"), chars=Sum("chars"))
    if (used["pages"] or 0) + len(pages) > settings.KNOWLEDGE_MAX_PAGES:
        raise SourceError(f"The channel would hold more than {settings.KNOWLEDGE_MAX_PAGES} pages: remove a source first.")
    chars = sum(len(page.text) for page in pages)
    if (used["chars"] or 0) + chars > settings.KNOWLEDGE_MAX_CHARS:
        raise SourceError(
            f"The channel would hold more than {settings.KNOWLEDGE_MAX_CHARS:,} characters of text: remove a source first."
        )


def store(source: Source, crawled: list[CrawledPage]) -> None:
    planned = [(item, list(chunking.passages(item.text))) for item in crawled]
    vectors, tokens, note = embed(source, planned)
    with transaction.atomic():
        Page.objects.filter(source=source).delete()  # their chunks go with them
        chunks = []
        for item, passages in planned:
            page = Page.objects.create(
                source=source, url=item.url, title=item.title[:300], text=item.text,
                etag=item.etag, last_modified=item.last_modified,
            )
            for passage in passages:
                chunks.append(Chunk(
                    channel_id=source.channel_id, source=source, page=page, url=item.url,
                    title=(item.title or source.title)[:300], heading=passage.heading[:300], text=passage.text,
                    embedding=vectors[len(chunks)] if vectors else None,
                ))
        Chunk.objects.bulk_create(chunks, batch_size=500)
        Source.objects.filter(pk=source.pk).update(
            status=Source.Status.READY, error=note, pages=len(crawled), chunks=len(chunks),
            chars=sum(len(item.text) for item in crawled), refreshed_at=timezone.now(), embedding_tokens=tokens,
        )
        retrieval.backend().chunks_changed(source.channel_id)


def embed(source: Source, planned) -> tuple[list[bytes] | None, int, str]:
    """The chunks' embeddings (none when they are off), their tokens, and a note for the source's error field.

    The provider failing costs the source its embeddings, not its text: it is searched by words alone.
    """
    texts = [f"{(item.title or source.title)}\n{passage.heading}\n{passage.text}"
             for item, passages in planned for passage in passages]
    try:
        embedded = embeddings.backend().embed(texts) if texts else None
    except embeddings.EmbeddingError as exc:
        logger.warning("Embedding knowledge source %s failed: %s", source.pk, exc)
        return None, 0, f"Embeddings failed ({exc}); searched by words only until a refresh."[:500]
    if embedded is None:
        return None, 0, ""
    return embedded.vectors, embedded.tokens, ""


def fail(source: Source, reason: str) -> None:
    had_chunks = Chunk.objects.filter(source=source).exists()
    if had_chunks:
        Source.objects.filter(pk=source.pk).update(status=Source.Status.READY, error=f"Last refresh failed: {reason}"[:500])
    else:
        Source.objects.filter(pk=source.pk).update(status=Source.Status.FAILED, error=reason[:500])
