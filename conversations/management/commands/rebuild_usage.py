import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from channels_app.models import Channel
from conversations.engine import rollups


class Command(BaseCommand):
    help = "Recompute the usage roll-ups (UsageDay, UsageLatency) of a range of UTC days from stored messages."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=dt.date.fromisoformat, required=True, help="first UTC day, YYYY-MM-DD")
        parser.add_argument("--until", type=dt.date.fromisoformat, help="last UTC day (default: today)")
        parser.add_argument("--channel", action="append", default=[], help="a channel's public id (repeatable; default: all)")

    def handle(self, *args, **opts):
        until = opts["until"] or timezone.now().astimezone(dt.timezone.utc).date()
        if opts["since"] > until:
            raise CommandError("--since must not be after --until")
        channel_ids = None
        if opts["channel"]:
            channel_ids = list(Channel.objects.filter(public_id__in=opts["channel"]).values_list("id", flat=True))
            if len(channel_ids) != len(set(opts["channel"])):
                raise CommandError("No such channel")
        done = rollups.rebuild(since=opts["since"], until=until, channel_ids=channel_ids)
        self.stdout.write(f"Rebuilt {done.days} channel-days ({done.latency_rows} latency rows), {opts['since']} to {until}.")
