"""Sources ingested for real: a website on loopback, real PDF/DOCX files, through `manage.py knowledge`."""

import errno
import io
import socket
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command

from conftest import make_channel
from gateway.testing.waiting import wait_until
from knowledge.models import Chunk, Page, Source
from knowledge.testing import docx_bytes, pdf_bytes, zip_bomb_docx

# Ingestion runs on the job runner's own thread and connection, which sees only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

ROBOTS = b"User-agent: *\nDisallow: /docs/private\n"


def run(*args, stdin: str = "") -> str:
    out = io.StringIO()
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("knowledge", *args, stdout=out)
    finally:
        sys.stdin = old
    return out.getvalue()


@pytest.fixture
def channel(owner):
    return make_channel(owner, credits=100)[0]


def test_a_site_is_read_from_its_sitemap_honouring_robots_txt_and_cut_at_headings(site, channel):
    site.raw("/robots.txt", ROBOTS)
    site.raw("/sitemap.xml", (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.url}/docs/returns</loc></url><url><loc>{site.url}/docs/shipping</loc></url>"
        f"<url><loc>{site.url}/docs/private</loc></url><url><loc>{site.url}/blog/news</loc></url></urlset>"
    ).encode(), "application/xml")
    site.html("/docs/", "Docs", "<h1>Docs</h1><p>Welcome to the documentation of the shop.</p>")
    site.html("/docs/returns", "Returns", "<h1>Returns policy</h1><p>Items can be returned within 30 days.</p>"
              "<h2>Damaged items</h2><p>Damaged parcels are replaced free of charge within a week.</p>")
    site.html("/docs/shipping", "Shipping", "<h1>Shipping</h1><p>Parcels leave our warehouse in Leeds every morning.</p>")
    site.html("/docs/private", "Private", "<h1>Secret</h1><p>Internal salary table.</p>")

    out = run("add-site", str(channel.public_id), f"{site.url}/docs/", "--wait")

    source = Source.objects.get(channel=channel)
    assert source.status == "ready", source.error
    assert f"{source.pk}\tsite\tready\t" in out
    assert sorted(Page.objects.filter(source=source).values_list("url", flat=True)) == [
        f"{site.url}/docs/returns", f"{site.url}/docs/shipping"
    ]
    assert not site.fetched("/docs/private") and not site.fetched("/blog/news")
    headings = set(Chunk.objects.filter(source=source).values_list("heading", flat=True))
    assert {"Returns policy", "Damaged items", "Shipping"} <= headings
    damaged = Chunk.objects.get(source=source, heading="Damaged items")
    assert "replaced free of charge" in damaged.text and "30 days" not in damaged.text
    assert source.pages == 2 and source.chunks == Chunk.objects.filter(source=source).count()


def test_without_a_sitemap_links_are_followed_within_the_prefix_and_the_page_limit(site, channel):
    site.html("/shop/", "Shop", '<h1>Shop</h1><p>Our shop sells tea.</p><a href="/shop/green">green</a>'
              '<a href="black#top">black</a><a href="/blog/post">blog</a><a href="mailto:x@example.com">mail</a>')
    site.html("/shop/green", "Green tea", "<h1>Green tea</h1><p>Sencha from Shizuoka, steamed.</p>")
    site.html("/shop/black", "Black tea", "<h1>Black tea</h1><p>Assam, malty and strong.</p>")
    site.html("/blog/post", "Blog", "<h1>Blog</h1><p>Not part of the shop.</p>")

    run("add-site", str(channel.public_id), f"{site.url}/shop/", "--max-pages", "2", "--wait")

    source = Source.objects.get(channel=channel)
    assert source.status == "ready" and source.pages == 2
    assert not site.fetched("/blog/post")
    urls = set(Page.objects.filter(source=source).values_list("url", flat=True))
    assert urls == {f"{site.url}/shop/", f"{site.url}/shop/green"}


def test_a_refresh_sends_the_validators_back_and_keeps_an_unchanged_page(site, channel):
    site.html("/faq", "FAQ", "<h1>Opening hours</h1><p>We open at nine every weekday morning.</p>", etag='"v1"')
    run("add-site", str(channel.public_id), f"{site.url}/faq", "--wait")
    first = Chunk.objects.get(channel=channel)

    run("refresh", str(channel.public_id), "--wait")

    assert site.fetched("/faq")[-1]["headers"].get("if-none-match") == '"v1"'
    source = Source.objects.get(channel=channel)
    assert source.status == "ready" and source.error == ""
    assert Chunk.objects.get(channel=channel).text == first.text


def test_files_of_every_kind_are_extracted_and_a_bad_one_fails_alone(channel, tmp_path):
    files = {
        "manual.pdf": pdf_bytes(["Warranty", "The kettle's warranty lasts two years from purchase."], title="Kettle manual"),
        "policies.docx": docx_bytes([("Shipping", "We ship within two days."), ("Returns", "Return within 30 days.")]),
        "notes.txt": "Plain notes: the shop is closed on Sundays.".encode(),
        "guide.md": b"# Setup\n\nPlug the kettle in.\n\n## Descaling\n\nUse vinegar monthly.",
        "page.html": b"<html><head><title>About</title></head><body><article><h1>About us</h1>"
                     b"<p>A family business since 1982, in a small town by the sea.</p></article></body></html>",
        "locked.pdf": pdf_bytes(["secret"], password="hunter2"),
        "broken.pdf": b"%PDF-1.7\nthis is not really a pdf at all",
        "bomb.docx": zip_bomb_docx(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        if name in ("locked.pdf", "broken.pdf", "bomb.docx"):
            with pytest.raises(CommandError, match="1 source"):
                run("add-file", str(channel.public_id), str(tmp_path / name), "--wait")
        else:
            run("add-file", str(channel.public_id), str(tmp_path / name), "--wait")

    by_name = {source.file_name: source for source in Source.objects.filter(channel=channel)}
    assert by_name["locked.pdf"].status == "failed" and "encrypted" in by_name["locked.pdf"].error
    assert by_name["broken.pdf"].status == "failed" and "malformed" in by_name["broken.pdf"].error
    assert by_name["bomb.docx"].status == "failed" and "zip bomb" in by_name["bomb.docx"].error
    for name in ("manual.pdf", "policies.docx", "notes.txt", "guide.md", "page.html"):
        assert by_name[name].status == "ready", (name, by_name[name].error)
        assert by_name[name].chunks >= 1
    assert by_name["manual.pdf"].title == "manual.pdf"
    assert "two years" in Chunk.objects.get(source=by_name["manual.pdf"]).text
    assert set(Chunk.objects.filter(source=by_name["policies.docx"]).values_list("heading", flat=True)) == {"Shipping", "Returns"}
    assert set(Chunk.objects.filter(source=by_name["guide.md"]).values_list("heading", flat=True)) == {"Setup", "Descaling"}
    assert "1982" in Chunk.objects.get(source=by_name["page.html"]).text

    status = run("status", str(channel.public_id)).splitlines()
    assert len(status) == len(files)
    assert f"{by_name['locked.pdf'].pk}\tfile\tfailed\t0\tThe PDF is encrypted" in "\n".join(status)


def test_text_snippets_come_from_stdin_and_remove_takes_everything(channel):
    out = run("add-text", str(channel.public_id), "--title", "Opening hours", "--wait",
              stdin="We are open from nine to five.")
    source = Source.objects.get(channel=channel)
    assert source.status == "ready" and f"{source.pk}\ttext\tready\t1\t" in out
    assert "nine to five" in Chunk.objects.get(source=source).text

    assert run("remove", str(source.pk)).strip() == f"Removed source {source.pk}."
    assert not Source.objects.exists() and not Chunk.objects.exists() and not Page.objects.exists()


def test_bad_input_is_a_clear_error_that_stores_nothing(channel, tmp_path):
    cases = [
        (("add-site", str(channel.public_id), "ftp://example.com/"), "http:// or https://"),
        (("add-site", str(channel.public_id), "https://example.com/", "--max-pages", "0"), "page limit"),
        (("add-site", "not-a-channel", "https://example.com/"), "No channel"),
        (("add-text", str(channel.public_id), "--title", ""), "title is required"),
        (("remove", "999999"), "No source"),
    ]
    (tmp_path / "virus.exe").write_bytes(b"MZ")
    cases.append((("add-file", str(channel.public_id), str(tmp_path / "virus.exe")), "Unsupported file type"))
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            run(*args)
    assert not Source.objects.exists()


def test_the_crawler_refuses_loopback_unless_allowed(site, channel, settings):
    settings.KNOWLEDGE_ALLOW_PRIVATE = False
    site.html("/", "Home", "<h1>Home</h1><p>Hello there, this is the home page.</p>")
    with pytest.raises(CommandError):
        run("add-site", str(channel.public_id), f"{site.url}/", "--wait")
    source = Source.objects.get(channel=channel)
    assert source.status == "failed" and "private or loopback" in source.error
    assert not site.requests


PUBLIC = "93.184.215.14"


def test_a_name_that_rebinds_to_loopback_after_its_check_never_reaches_loopback(site, channel, settings, monkeypatch):
    """An attacker's DNS with no TTL answers a public address, then loopback, then public again...: whichever answer
    a check gets, the connection goes to that very address, so the loopback site is never reached."""
    settings.KNOWLEDGE_ALLOW_PRIVATE = False
    site.html("/", "Home", "<h1>Home</h1><p>Internal page that must stay unread.</p>")
    real = socket.getaddrinfo
    answers, connected = [], []

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            address = PUBLIC if len(answers) % 2 == 0 else "127.0.0.1"
            answers.append(address)
            return real(address, port, *args, **kwargs)
        if host == PUBLIC:  # the checked address itself; no route to the internet from a test
            connected.append(host)
            raise OSError(errno.ENETUNREACH, "no route in tests")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = urlsplit(site.url).port
    with pytest.raises(CommandError):
        run("add-site", str(channel.public_id), f"http://rebind.test:{port}/", "--wait")

    assert not site.requests  # loopback was never reached, though half the answers pointed there
    assert "127.0.0.1" in answers and connected  # the check saw both answers; connections went to the public one
    assert Source.objects.get(channel=channel).status == "failed"


def test_oversized_and_non_html_pages_are_skipped_and_reported(site, channel, settings):
    settings.KNOWLEDGE_MAX_PAGE_BYTES = 2000
    site.html("/", "Home", '<h1>Home</h1><p>Short page.</p><a href="/big">big</a><a href="/data">data</a>')
    site.html("/big", "Big", "<p>" + "word " * 2000 + "</p>")
    site.raw("/data", b"a,b,c", "text/csv")
    run("add-site", str(channel.public_id), f"{site.url}/", "--wait")
    source = Source.objects.get(channel=channel)
    assert source.status == "ready" and source.pages == 1
    assert site.fetched("/big") and site.fetched("/data")

    site.pages.clear()
    site.html("/", "Home", "<p>" + "word " * 2000 + "</p>")
    other = make_channel(channel.owner, name="Other", credits=1)[0]
    with pytest.raises(CommandError):
        run("add-site", str(other.public_id), f"{site.url}/", "--wait")
    failed = Source.objects.get(channel=other)
    assert failed.status == "failed" and "larger than 2000 bytes" in failed.error
    assert Source.objects.get(pk=source.pk).status == "ready"


def test_a_redirect_is_followed_and_checked_hop_by_hop(site, channel):
    site.redirect("/old", "/new")
    site.html("/new", "New", "<h1>New home</h1><p>The page moved here last spring.</p>")
    run("add-site", str(channel.public_id), f"{site.url}/old", "--path-prefix", "/", "--wait")
    assert Source.objects.get(channel=channel).status == "ready"
    assert list(Page.objects.values_list("url", flat=True)) == [f"{site.url}/new"]


def test_the_channels_caps_refuse_more_with_a_reason_and_keep_the_rest(channel, settings):
    settings.KNOWLEDGE_MAX_SOURCES = 3
    settings.KNOWLEDGE_MAX_CHARS = 100
    run("add-text", str(channel.public_id), "--title", "Small", "--wait", stdin="Forty characters of text, roughly so.")
    with pytest.raises(CommandError, match="1 source"):
        run("add-text", str(channel.public_id), "--title", "Big", "--wait", stdin="x" * 200)
    run("add-text", str(channel.public_id), "--title", "Small too", "--wait", stdin="Another short text here.")
    with pytest.raises(CommandError, match="already has 3 sources"):
        run("add-text", str(channel.public_id), "--title", "Fourth", stdin="No room.")

    by_title = {source.title: source for source in Source.objects.filter(channel=channel)}
    assert set(by_title) == {"Small", "Big", "Small too"}
    assert by_title["Big"].status == "failed" and "more than 100 characters" in by_title["Big"].error
    assert by_title["Small"].status == by_title["Small too"].status == "ready"
    assert not Chunk.objects.filter(source=by_title["Big"]).exists()


def test_the_periodic_refresh_reads_every_source_again(site, channel):
    from knowledge.jobs import refresh_all

    site.html("/a", "A", "<h1>Alpha</h1><p>The first page says alpha things.</p>", etag='"a1"')
    run("add-site", str(channel.public_id), f"{site.url}/a", "--wait")
    before = Source.objects.get(channel=channel).refreshed_at
    site.html("/a", "A", "<h1>Alpha</h1><p>The page changed: it says beta things now.</p>", etag='"a2"')

    refresh_all()
    assert wait_until(lambda: Source.objects.get(channel=channel).refreshed_at != before, 30)
    assert wait_until(lambda: Source.objects.get(channel=channel).status == "ready", 30)
    assert "beta things" in Chunk.objects.get(channel=channel).text


def test_a_sitemap_with_an_external_entity_reads_no_local_file(site, channel):
    site.raw("/sitemap.xml", (
        '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.url}/&leak;</loc></url><url><loc>{site.url}/about</loc></url></urlset>"
    ).encode(), "application/xml")
    site.html("/about", "About", "<h1>About</h1><p>A small shop with a big heart and a long history.</p>")
    site.html("/", "Home", '<h1>Home</h1><p>Welcome to the home page of the shop.</p><a href="/about">About</a>')
    run("add-site", str(channel.public_id), f"{site.url}/", "--wait")
    pages = list(Page.objects.filter(source__channel=channel).values_list("url", "text"))
    assert pages and all("root:" not in url + text for url, text in pages)
    # Resolved, the entity would have put the file's lines into a <loc> the crawler then asks the site for.
    assert not [r["path"] for r in site.requests if "root" in r["path"]]
    assert site.fetched("/about")
