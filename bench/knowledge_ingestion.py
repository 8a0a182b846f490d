"""Ingesting a website of BENCH_PAGES pages (default 1000) served on loopback: `python -m bench.knowledge_ingestion`.

Generates the site (a sitemap.xml listing every page; each page about 600 words under four headings, plus
navigation the extractor drops), serves it with uvicorn on 127.0.0.1, and times one ingestion of it
(`knowledge.ingestion.ingest`: robots.txt, the sitemap, every page fetched through the pinned outbound
request, extracted by trafilatura, cut at headings, stored and indexed) in this process, on the database
DATABASE_URL names (a throwaway one: it is migrated and a channel added). Prints pages, chunks, seconds, and
pages per second.
"""

import os
import random
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings_test")
import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from channels_app.services import channel_create, owner_get_or_create  # noqa: E402
from gateway.testing.servers import ThreadedUvicorn  # noqa: E402
from knowledge import ingestion  # noqa: E402
from knowledge.models import Source  # noqa: E402
from knowledge.testing import LoopbackSite  # noqa: E402

PAGES = int(os.environ.get("BENCH_PAGES", "1000"))
WORDS = (
    "tea kettle return refund delivery shipping order parcel mug cup green black leaf water boil price card gift "
    "box warranty descale filter brew steep cold hot aroma flavour origin farm harvest season blend the a of to "
    "and in is for with our your you we can will each every day week month year from by on at"
).split()


def page_body(rng: random.Random, number: int) -> str:
    nav = "".join(f'<a href="/docs/{rng.randrange(PAGES)}">Page {n}</a>' for n in range(8))
    sections = "".join(
        f"<h2>{rng.choice(WORDS).title()} {rng.choice(WORDS)} {number}-{s}</h2>"
        + "".join(f"<p>{' '.join(rng.choice(WORDS) for _ in range(50))}.</p>" for _ in range(3))
        for s in range(4)
    )
    return f"<nav>{nav}</nav><article><h1>Page {number}</h1>{sections}</article><footer>© The tea shop</footer>"


def main() -> None:
    call_command("migrate", verbosity=0)
    settings.KNOWLEDGE_ALLOW_PRIVATE = True
    settings.KNOWLEDGE_MAX_PAGES = max(settings.KNOWLEDGE_MAX_PAGES, PAGES)
    site = LoopbackSite()
    rng = random.Random(1)
    for number in range(PAGES):
        site.html(f"/docs/{number}", f"Page {number}", page_body(rng, number))
    server = ThreadedUvicorn(site).start()
    try:
        base = server.url
        site.raw("/sitemap.xml", (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{base}/docs/{n}</loc></url>" for n in range(PAGES)) + "</urlset>"
        ).encode(), "application/xml")
        owner = owner_get_or_create(email=f"bench-ingestion-{time.time_ns()}@example.com")
        channel = channel_create(owner=owner, name="ingestion bench", credits=1)[0]
        source = Source.objects.create(channel=channel, kind="site", title="bench site", url=f"{base}/docs/",
                                       max_pages=PAGES)
        started = time.perf_counter()
        ingestion.ingest(source.pk)
        took = time.perf_counter() - started
    finally:
        server.stop()
    source.refresh_from_db()
    assert source.status == "ready", source.error
    print(f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[1]}: {source.pages} pages, {source.chunks} chunks, "
          f"{source.chars:,} characters in {took:.1f} s ({source.pages / took:.1f} pages/s); "
          f"{len(site.requests)} requests to the site")


if __name__ == "__main__":
    main()
