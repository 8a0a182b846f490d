import argparse

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from channels_app.providers import catalog
from channels_app.services import channel_create, owner_get_or_create


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return number


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return number


class Command(BaseCommand):
    help = "Create a channel (and its owner, if missing) and print its new API key as the last line."

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="owner's email; the user is created if missing")
        parser.add_argument("--name", required=True)
        parser.add_argument("--model", default=None, help="an active model id from the catalog (default: the first)")
        parser.add_argument("--fallback-model", default="", help="a model id tried when the main model fails")
        parser.add_argument("--credits", type=_non_negative_int, default=None)
        parser.add_argument("--rate-limit", type=_positive_int, default=60, help="requests per minute")
        parser.add_argument("--daily-limit", type=_positive_int, default=1000, help="chats per UTC day")
        parser.add_argument("--system-prompt", default="")
        parser.add_argument("--inactive", action="store_true")

    def handle(self, *args, **opts):
        for option in ("model", "fallback_model"):
            if opts[option] and not catalog.is_pickable(opts[option]):
                active = ", ".join(m.id for m in catalog.pickable())
                raise CommandError(f"Unknown model {opts[option]!r}. Choose one of: {active}")
        try:
            validate_email(opts["owner"])
        except ValidationError:
            raise CommandError(f"{opts['owner']!r} is not an email address") from None
        name = opts["name"].strip()
        if not name or len(name) > 100:
            raise CommandError("--name must be 1 to 100 characters")
        owner = owner_get_or_create(email=opts["owner"])
        try:
            channel, issued = channel_create(
                owner=owner,
                name=name,
                model=opts["model"],
                fallback_model=opts["fallback_model"],
                system_prompt=opts["system_prompt"],
                credits=opts["credits"],
                rate_limit_per_minute=opts["rate_limit"],
                daily_limit=opts["daily_limit"],
                is_active=not opts["inactive"],
                ignore_cap=True,  # an operator's command: MAX_CHANNELS_PER_OWNER bounds self-service only
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Created channel {channel.name!r} ({channel.public_id}) for {owner.email}.")
        self.stdout.write(issued.plaintext)
