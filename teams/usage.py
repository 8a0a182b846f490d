"""An organisation's usage: its channels' answered chats, tokens and cost summed (issue 17 point 6).

Limits and credits stay per channel; this only adds them up for the people who pay.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from conversations.models import Message
from teams.models import Organisation

DAYS = 30


@dataclass(frozen=True)
class ChannelUsage:
    channel: object
    answered: int
    tokens: int
    cost: Decimal


@dataclass(frozen=True)
class OrganisationUsage:
    channels: list[ChannelUsage]
    days: int

    @property
    def answered(self) -> int:
        return sum(c.answered for c in self.channels)

    @property
    def tokens(self) -> int:
        return sum(c.tokens for c in self.channels)

    @property
    def cost(self) -> Decimal:
        return sum((c.cost for c in self.channels), Decimal(0))

    @property
    def credits(self) -> int:
        return sum(c.channel.credits for c in self.channels)


def organisation_usage(organisation: Organisation, *, days: int = DAYS, now: dt.datetime | None = None) -> OrganisationUsage:
    """Per channel of the organisation over the last `days` days, and (as properties) their sums."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    totals = {
        row["session__channel"]: row
        for row in Message.objects.filter(
            session__channel__organisation=organisation, role=Message.Role.ASSISTANT, created_at__gte=since
        )
        .values("session__channel")
        .annotate(answered=Count("id"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"), cost=Sum("cost"))
    }
    channels = []
    for channel in organisation.channels.order_by("name", "id"):
        row = totals.get(channel.pk, {})
        channels.append(
            ChannelUsage(
                channel=channel,
                answered=row.get("answered", 0),
                tokens=(row.get("prompt") or 0) + (row.get("completion") or 0),
                cost=row.get("cost") or Decimal(0),
            )
        )
    return OrganisationUsage(channels=channels, days=days)
