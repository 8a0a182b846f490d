"""One HTTP GET for the crawler, within its limits: the outbound address rule on every hop, size and time caps.

Every hop connects through knowledge/outbound.py (the address it checked, never
a second DNS answer). Redirects are followed here, hop by hop (at most
MAX_REDIRECTS), each Location checked there again before it is contacted. A body beyond
KNOWLEDGE_MAX_PAGE_BYTES or a fetch beyond KNOWLEDGE_FETCH_TIMEOUT_SECONDS is a
SourceError; so is a scheme other than http(s).
"""

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from knowledge.errors import SourceError
from knowledge.outbound import opened

MAX_REDIRECTS = 5
USER_AGENT = "AI-Gateway-Knowledge/1.0 (+crawler of a channel owner's own site)"


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"Not an http(s) URL: {url[:200]}")


def get(url: str, *, headers: dict | None = None, max_bytes: int | None = None) -> Fetched:
    limit = max_bytes or settings.KNOWLEDGE_MAX_PAGE_BYTES
    deadline = time.monotonic() + settings.KNOWLEDGE_FETCH_TIMEOUT_SECONDS
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url)
        try:
            with opened(url, headers={"User-Agent": USER_AGENT, **(headers or {})}, timeout=_timeout()) as response:
                if response.is_redirect and response.headers.get("location"):
                    url = urljoin(url, response.headers["location"])
                    continue
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise SourceError(f"{url[:200]} is larger than {limit} bytes.")
                body = b""
                for piece in response.iter_bytes():
                    body += piece
                    if len(body) > limit:
                        raise SourceError(f"{url[:200]} is larger than {limit} bytes.")
                    if time.monotonic() > deadline:
                        raise SourceError(f"{url[:200]} took longer than {settings.KNOWLEDGE_FETCH_TIMEOUT_SECONDS:g} s.")
                return Fetched(url, response.status_code, response.headers, body)
        except httpx.TimeoutException:
            raise SourceError(f"{url[:200]} took longer than {settings.KNOWLEDGE_FETCH_TIMEOUT_SECONDS:g} s.") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"{url[:200]} could not be fetched ({type(exc).__name__}).") from None
    raise SourceError(f"{url[:200]} redirects more than {MAX_REDIRECTS} times.")


def _timeout() -> httpx.Timeout:
    timeout = settings.KNOWLEDGE_FETCH_TIMEOUT_SECONDS
    return httpx.Timeout(timeout, connect=min(timeout, 5.0))
