import time

from django.core.management.base import BaseCommand, CommandError
from django.core.exceptions import ValidationError

from channels_app.models import Channel
from conversations import seeding


class Command(BaseCommand):
    help = (
        "Add demo conversations to a channel at scale: N threads of four messages over the last days, failed "
        "requests, and the usage roll-ups (SQL-level on PostgreSQL). For benchmarks and demos, never production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, help="the channel's public id")
        parser.add_argument("--sessions", type=int, required=True, help="threads to add (4 messages each)")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--failed-every", type=int, default=10, help="one failed request per this many threads")
        parser.add_argument("--batch", type=int, default=100_000, help="threads per transaction")

    def handle(self, *args, **opts):
        if opts["sessions"] < 1 or opts["days"] < 1 or opts["failed_every"] < 1 or opts["batch"] < 1:
            raise CommandError("--sessions, --days, --failed-every and --batch must be positive")
        try:
            channel = Channel.objects.get(public_id=opts["channel"])
        except (Channel.DoesNotExist, ValidationError):
            raise CommandError("No such channel") from None
        began = time.monotonic()

        def progress(added):
            self.stdout.write(f"  {added['threads']:,} threads, {added['messages']:,} messages "
                              f"({time.monotonic() - began:.0f} s)")

        added = seeding.seed(channel=channel, sessions=opts["sessions"], days=opts["days"],
                             failed_every=opts["failed_every"], batch=opts["batch"], progress=progress)
        self.stdout.write(
            f"Seeded {channel.name}: {added['threads']:,} threads, {added['messages']:,} messages, "
            f"{added['failed_requests']:,} failed requests in {time.monotonic() - began:.1f} s (roll-ups rebuilt)."
        )
