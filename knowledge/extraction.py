"""Text out of documents, with maintained libraries: trafilatura (HTML), pypdf (PDF), python-docx (DOCX).

Every extractor returns Markdown-like text whose `#` headings knowledge/chunking.py
cuts at. Whatever is wrong with a file (an encrypted or malformed PDF, a zip bomb
posing as DOCX, text that is not UTF-8) is a SourceError with a reason the owner
can read; nothing here writes anything.
"""

import io
import logging
import zipfile
from dataclasses import dataclass

from knowledge.errors import SourceError

logger = logging.getLogger(__name__)

# A DOCX is a zip: refuse one that would inflate beyond this, or by more than this ratio (a zip bomb).
DOCX_MAX_INFLATED_BYTES = 100 * 1024 * 1024
DOCX_MAX_RATIO = 100
PDF_MAX_PAGES = 2000

KINDS = {
    ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
    ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx",
}


@dataclass(frozen=True)
class Document:
    title: str
    text: str


def kind_of(name: str) -> str:
    """The extractor for a file name's extension; SourceError for one we do not read."""
    lowered = name.lower()
    for ending, kind in KINDS.items():
        if lowered.endswith(ending):
            return kind
    raise SourceError("Unsupported file type: upload TXT, Markdown, HTML, PDF or DOCX.")


def extract(data: bytes, kind: str, *, title: str = "") -> Document:
    extractor = {"text": _plain, "markdown": _plain, "html": html, "pdf": pdf, "docx": docx}[kind]
    document = extractor(data, title)
    if not document.text.strip():
        raise SourceError("No text could be extracted.")
    return document


def _plain(data: bytes, title: str) -> Document:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError("The file is not UTF-8 text.") from None
    if "\x00" in text:
        raise SourceError("The file is not text.")
    return Document(title, text)


def html(data: bytes, title: str = "") -> Document:
    import trafilatura

    text = trafilatura.extract(
        data, output_format="markdown", include_links=False, include_comments=False, include_images=False,
        favor_recall=True,
    )
    metadata = trafilatura.extract_metadata(data)
    found = (metadata.title if metadata is not None and metadata.title else "") or title
    return Document(found.strip()[:300], text or "")


def pdf(data: bytes, title: str = "") -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.startswith(b"%PDF-"):
        raise SourceError("The file is not a PDF.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise SourceError("The PDF is encrypted: upload it without a password.")
        if len(reader.pages) > PDF_MAX_PAGES:
            raise SourceError(f"The PDF has more than {PDF_MAX_PAGES} pages.")
        texts = [page.extract_text() or "" for page in reader.pages]
        found = (reader.metadata.title if reader.metadata and reader.metadata.title else "") or title
    except SourceError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as exc:
        logger.info("Unreadable PDF: %r", exc)
        raise SourceError("The PDF is malformed and could not be read.") from None
    return Document(str(found).strip()[:300], "\n\n".join(t.strip() for t in texts if t.strip()))


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SourceError("The file is not a DOCX document.") from None
    with archive:
        inflated = sum(info.file_size for info in archive.infolist())
    if inflated > DOCX_MAX_INFLATED_BYTES or inflated > DOCX_MAX_RATIO * max(len(data), 1):
        raise SourceError("The DOCX expands to far more than its size (a zip bomb?): refused.")


def docx(data: bytes, title: str = "") -> Document:
    import docx as python_docx
    from docx.opc.exceptions import PackageNotFoundError

    _check_zip(data)
    try:
        document = python_docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        logger.info("Unreadable DOCX: %r", exc)
        raise SourceError("The DOCX is malformed and could not be read.") from None
    lines = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style == "Title" or style.startswith("Heading"):
            level = int(style.rsplit(" ", 1)[-1]) if style[-1:].isdigit() else 1
            lines.append(f"{'#' * min(max(level, 1), 6)} {text}")
        else:
            lines.append(text)
    found = document.core_properties.title or title
    return Document(found.strip()[:300], "\n\n".join(lines))
