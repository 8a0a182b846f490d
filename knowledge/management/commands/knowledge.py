"""manage.py knowledge add-site | add-file | add-text | status | refresh | remove (docs/knowledge.md).

`--wait` returns once the work is done, with a non-zero exit when a source failed.
"""

import sys
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from channels_app.models import Channel
from knowledge import services
from knowledge.models import Source


class Command(BaseCommand):
    help = "Manage a channel's knowledge sources: add a site, a file or text; status; refresh; remove."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        site = sub.add_parser("add-site", help="Add a website (its sitemap.xml, else links from the URL).")
        site.add_argument("channel", help="the channel's public id")
        site.add_argument("url")
        site.add_argument("--max-pages", type=int, default=None)
        site.add_argument("--path-prefix", default="")
        site.add_argument("--wait", action="store_true")
        upload = sub.add_parser("add-file", help="Add a file: TXT, Markdown, HTML, PDF or DOCX.")
        upload.add_argument("channel")
        upload.add_argument("path")
        upload.add_argument("--wait", action="store_true")
        text = sub.add_parser("add-text", help="Add a text snippet read from standard input.")
        text.add_argument("channel")
        text.add_argument("--title", required=True)
        text.add_argument("--wait", action="store_true")
        status = sub.add_parser("status", help="One line per source: id, kind, status, chunks, error.")
        status.add_argument("channel")
        refresh = sub.add_parser("refresh", help="Read every source of the channel again.")
        refresh.add_argument("channel")
        refresh.add_argument("--wait", action="store_true")
        remove = sub.add_parser("remove", help="Remove a source, its pages and chunks.")
        remove.add_argument("source", type=int)
        for each in (site, upload, text, refresh):
            each.add_argument("--timeout", type=float, default=600.0, help="seconds --wait waits at most")

    def handle(self, *args, action, **options):
        try:
            handler = getattr(self, action.replace("-", "_"))
            handler(**options)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None

    @staticmethod
    def channel(public_id: str) -> Channel:
        try:
            return Channel.objects.get(public_id=public_id)
        except (Channel.DoesNotExist, ValidationError, ValueError):
            raise CommandError(f"No channel with public id {public_id!r}.") from None

    def add_site(self, *, channel, url, max_pages, path_prefix, wait, timeout, **_):
        source = services.source_add_site(channel=self.channel(channel), url=url, max_pages=max_pages, path_prefix=path_prefix)
        self.added([source], wait, timeout)

    def add_file(self, *, channel, path, wait, timeout, **_):
        target = self.channel(channel)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        source = services.source_add_file(channel=target, name=Path(path).name, data=data)
        self.added([source], wait, timeout)

    def add_text(self, *, channel, title, wait, timeout, **_):
        target = self.channel(channel)
        source = services.source_add_text(channel=target, title=title, text=sys.stdin.read())
        self.added([source], wait, timeout)

    def status(self, *, channel, **_):
        for source in Source.objects.filter(channel=self.channel(channel)).defer("file_data", "text"):
            self.stdout.write(self.line(source))

    def refresh(self, *, channel, wait, timeout, **_):
        target = self.channel(channel)
        services.refresh_all(target)
        self.added(list(Source.objects.filter(channel=target).only("pk")), wait, timeout)

    def remove(self, *, source, **_):
        found = Source.objects.filter(pk=source).first()
        if found is None:
            raise CommandError(f"No source with id {source}.")
        services.source_remove(source=found)
        self.stdout.write(f"Removed source {source}.")

    @staticmethod
    def line(source: Source) -> str:
        return f"{source.pk}\t{source.kind}\t{source.status}\t{source.chunks}\t{source.error}"

    def added(self, sources: list[Source], wait: bool, timeout: float):
        ids = [source.pk for source in sources]
        for source_id in ids:
            self.stdout.write(f"Queued source {source_id}.")
        if not wait:
            return
        deadline = time.monotonic() + timeout
        busy = (Source.Status.PENDING, Source.Status.PROCESSING)
        while Source.objects.filter(pk__in=ids, status__in=busy).exists():
            if time.monotonic() > deadline:
                raise CommandError(f"Still processing after {timeout:g} s.")
            time.sleep(0.2)  # polling the database: the work runs in a job thread or a Celery worker
        done = list(Source.objects.filter(pk__in=ids).defer("file_data", "text"))
        for source in done:
            self.stdout.write(self.line(source))
        failed = [source for source in done if source.status == Source.Status.FAILED]
        if failed:
            raise CommandError(f"{len(failed)} source(s) failed.")
