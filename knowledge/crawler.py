"""Read a website: its sitemap.xml when it has one, else the same-site links from the start URL.

Only pages under the source's path prefix, at most its page limit, and never
one robots.txt disallows to our user agent. A refresh sends each known page's
ETag / Last-Modified back; a 304 keeps the page's stored text. Pages that fail
are skipped; the crawl fails (SourceError) only when the start yields no page.
"""

import logging
import urllib.robotparser
from collections import deque
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from knowledge import extraction, fetching
from knowledge.errors import SourceError

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
SITEMAP_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Known:
    """A page read before: the validators to send back, and its text if it has not changed."""

    title: str
    text: str
    etag: str
    last_modified: str


@dataclass(frozen=True)
class CrawledPage:
    url: str
    title: str
    text: str
    etag: str
    last_modified: str


def normalise(url: str) -> str:
    """The URL without its fragment, with a lower-case host and a path of at least "/"."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def default_prefix(start_url: str) -> str:
    """The start URL's folder: https://x/docs/intro → /docs/."""
    path = urlsplit(start_url).path or "/"
    return path[: path.rfind("/") + 1]


class Crawl:
    def __init__(self, start_url: str, *, max_pages: int, path_prefix: str, known: dict[str, Known]):
        self.start = normalise(start_url)
        parts = urlsplit(self.start)
        self.origin = (parts.scheme, parts.netloc)
        self.prefix = path_prefix or default_prefix(self.start)
        self.max_pages = max_pages
        self.known = known
        self.robots = urllib.robotparser.RobotFileParser()
        self.sitemaps: list[str] = []
        self.failures: list[str] = []

    def in_scope(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == self.origin and (parts.path or "/").startswith(self.prefix)

    def allowed(self, url: str) -> bool:
        return self.robots.can_fetch(fetching.USER_AGENT, url)

    def run(self) -> list[CrawledPage]:
        self.read_robots()
        if not self.allowed(self.start):
            raise SourceError("robots.txt disallows the start URL.")
        from_sitemap = self.sitemap_urls()
        pages = self.read_list(from_sitemap) if from_sitemap else self.follow_links()
        if not pages:
            reason = self.failures[0] if self.failures else "no page with text was found"
            raise SourceError(f"No page could be read: {reason}")
        return pages

    def root(self, path: str) -> str:
        return urlunsplit((*self.origin, path, "", ""))

    def read_robots(self) -> None:
        url = self.root("/robots.txt")
        try:
            fetched = fetching.get(url, max_bytes=512 * 1024)
        except SourceError:
            self.robots.parse([])
            return
        if fetched.status >= 400:
            self.robots.parse([])  # no robots.txt: everything allowed
            return
        lines = fetched.body.decode("utf-8", "replace").splitlines()
        self.robots.parse(lines)
        self.sitemaps = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("sitemap:")]

    def sitemap_urls(self) -> list[str]:
        """Page URLs in scope from the sitemap (robots.txt's, else /sitemap.xml), one level of sitemap index."""
        queue = deque(self.sitemaps or [self.root("/sitemap.xml")])
        seen, found = set(), []
        while queue and len(seen) < 20:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            try:
                fetched = fetching.get(url, max_bytes=SITEMAP_MAX_BYTES)
            except SourceError:
                continue
            if fetched.status != 200:
                continue
            try:
                parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
                tree = etree.fromstring(fetched.body, parser)
            except etree.XMLSyntaxError:
                continue
            local = etree.QName(tree).localname
            locs = [el.text.strip() for el in tree.iter("{*}loc") if el.text]
            if local == "sitemapindex":
                queue.extend(locs)
            else:
                found += [normalise(loc) for loc in locs if self.in_scope(normalise(loc))]
        return list(dict.fromkeys(found))

    def read_list(self, urls: list[str]) -> list[CrawledPage]:
        pages = []
        for url in urls:
            if len(pages) >= self.max_pages:
                break
            page, _ = self.read(url)
            if page is not None:
                pages.append(page)
        return pages

    def follow_links(self) -> list[CrawledPage]:
        queue, seen, pages = deque([self.start]), {self.start}, []
        while queue and len(pages) < self.max_pages:
            url = queue.popleft()
            page, links = self.read(url)
            if page is not None:
                pages.append(page)
            for link in links:
                if link not in seen and self.in_scope(link):
                    seen.add(link)
                    queue.append(link)
        return pages

    def read(self, url: str) -> tuple[CrawledPage | None, list[str]]:
        """One page, extracted, and the links on it (none when it was not read again)."""
        if not self.allowed(url):
            return None, []
        known = self.known.get(url)
        headers = {}
        if known is not None:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        try:
            fetched = fetching.get(url, headers=headers)
        except SourceError as exc:
            self.failures.append(str(exc))
            return None, []
        if fetched.status == 304 and known is not None:
            return CrawledPage(url, known.title, known.text, known.etag, known.last_modified), []
        if fetched.status != 200:
            self.failures.append(f"{url[:200]} answered {fetched.status}")
            return None, []
        if fetched.content_type not in HTML_TYPES:
            self.failures.append(f"{url[:200]} is {fetched.content_type or 'of no type'}, not HTML")
            return None, []
        final = normalise(fetched.url)
        if not self.in_scope(final):
            return None, []
        links = self.links(fetched.body, final)
        try:
            document = extraction.html(fetched.body)
        except Exception as exc:  # a page the extractor chokes on is skipped, not the whole site
            logger.info("Could not extract %s: %r", final, exc)
            return None, links
        if not document.text.strip():
            return None, links
        return (
            CrawledPage(final, document.title or final, document.text,
                        fetched.headers.get("etag", "")[:300], fetched.headers.get("last-modified", "")[:100]),
            links,
        )

    @staticmethod
    def links(body: bytes, base: str) -> list[str]:
        try:
            tree = lxml_html.fromstring(body)
        except (etree.ParserError, ValueError):
            return []
        out = []
        for href in tree.xpath("//a/@href"):
            href = str(href).strip()
            if href and not href.startswith(("mailto:", "javascript:", "tel:", "#")):
                out.append(normalise(urljoin(base, href)))
        return out
