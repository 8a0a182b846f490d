from django.core.management.base import BaseCommand

from conversations.engine.retention import purge_all


class Command(BaseCommand):
    help = "Delete conversations, failed-request rows and refused origins older than each channel's retention."

    def handle(self, *args, **options):
        totals = purge_all()
        self.stdout.write(", ".join(f"{name}: {n}" for name, n in sorted(totals.items())) or "nothing to purge")
