from django.core.management.base import BaseCommand

from channels_app.models import Channel
from channels_app.providers.catalog import is_demo
from channels_app.services import api_key_issue, channel_create, owner_get_or_create

DEMO_OWNER = "demo@example.com"
DEMO_NAME = "Demo site"


class Command(BaseCommand):
    help = "Create the demo owner and channel if missing, then print its API key and a curl to try."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="http://127.0.0.1:8000")

    def handle(self, *args, **opts):
        owner = owner_get_or_create(email=DEMO_OWNER)
        channel = Channel.objects.filter(owner=owner, name=DEMO_NAME).first()
        if channel is None:
            channel, issued = channel_create(
                owner=owner,
                name=DEMO_NAME,
                system_prompt="You are the friendly assistant of a demo website.",
                credits=1000,
                ignore_cap=True,  # an operator's command
            )
            raw = issued.plaintext
            self.stdout.write(f"Created the demo channel {channel.name!r} for {DEMO_OWNER}.")
        else:
            key = channel.api_keys.filter(revoked_at__isnull=True).first()
            raw = key.reveal() if key else api_key_issue(channel=channel).plaintext
        provider = "the OFFLINE DEMO provider (set LLM_API_KEY for a real model)" if is_demo() else "your AI provider"
        self.stdout.write(
            f"\nDemo channel API key: {raw}\nReplies come from {provider}. Try it:\n\n"
            f"  curl -X POST {opts['host']}/api/chat \\\n"
            f'    -H "Content-Type: application/json" \\\n'
            f'    -H "X-API-Key: {raw}" \\\n'
            f"    -d '{{\"message\": \"Hello! What can you help me with?\", \"session_id\": \"user-session-abc123\"}}'\n"
        )
