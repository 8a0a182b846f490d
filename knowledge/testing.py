"""Test helpers (tests only): a small website served for real on loopback, and real PDF and DOCX files built here."""

import io
import zipfile

from gateway.testing.fake_llm import read_body


class LoopbackSite:
    """An ASGI site: `pages` maps a path to (status, headers, body). Records each request's path and headers."""

    def __init__(self):
        self.pages: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[dict] = []

    def html(self, path: str, title: str, body: str, *, etag: str = "", last_modified: str = "") -> None:
        headers = {"content-type": "text/html; charset=utf-8"}
        if etag:
            headers["etag"] = etag
        if last_modified:
            headers["last-modified"] = last_modified
        page = f"<html><head><title>{title}</title></head><body><main>{body}</main></body></html>"
        self.pages[path] = (200, headers, page.encode())

    def raw(self, path: str, body: bytes, content_type: str = "text/plain", status: int = 200, **headers: str) -> None:
        self.pages[path] = (status, {"content-type": content_type, **headers}, body)

    def redirect(self, path: str, location: str) -> None:
        self.pages[path] = (302, {"location": location}, b"")

    def fetched(self, path: str) -> list[dict]:
        return [request for request in self.requests if request["path"] == path]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        await read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.requests.append({"path": scope["path"], "headers": headers})
        status, page_headers, body = self.pages.get(scope["path"], (404, {"content-type": "text/plain"}, b"not found"))
        etag = page_headers.get("etag")
        if etag and headers.get("if-none-match") == etag:
            status, body = 304, b""
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode(), v.encode()) for k, v in page_headers.items()]})
        await send({"type": "http.response.body", "body": body})


def pdf_bytes(lines: list[str], *, password: str | None = None, title: str = "") -> bytes:
    """A real one-page PDF whose text is `lines` (Helvetica), built with pypdf; encrypted when `password`."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): font}),
    })
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    ops = "BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"({line}) Tj T*" for line in escaped) + " ET"
    stream = DecodedStreamObject()
    stream.set_data(ops.encode("latin-1"))
    page.replace_contents(stream)
    if title:
        writer.add_metadata({"/Title": title})
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(sections: list[tuple[str, str]], *, title: str = "") -> bytes:
    """A real DOCX with a Heading 1 and a paragraph per (heading, text), built with python-docx."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for heading, text in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx(inflated_bytes: int = 20 * 1024 * 1024) -> bytes:
    """A .docx-shaped zip whose one member inflates from a few kilobytes to `inflated_bytes` of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(inflated_bytes // len(chunk)):
                member.write(chunk)
    return out.getvalue()


class CountingRetrieval:
    """The configured retrieval, counting its searches (KNOWLEDGE_RETRIEVAL may name it in a test)."""

    calls = 0

    def __init__(self):
        from django.db import connection
        from django.utils.module_loading import import_string

        name = {"postgresql": "knowledge.retrieval.postgresql.PostgreSQLRetrieval"}.get(
            connection.vendor, "knowledge.retrieval.sqlite.SqliteRetrieval"
        )
        self.inner = import_string(name)()

    async def search(self, **kwargs):
        type(self).calls += 1
        return await self.inner.search(**kwargs)

    def chunks_changed(self, channel_id: int) -> None:
        self.inner.chunks_changed(channel_id)
