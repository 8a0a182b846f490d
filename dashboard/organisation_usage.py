"""An organisation's usage: its channels' days summed, and each channel's share.

Read from the roll-ups (dashboard/usage.py), like a channel's usage page, so both pages count the
same things the same way and neither grows with the history. Limits and credits stay per channel.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from conversations.models import UsageDay
from dashboard import usage
from teams.models import Organisation

DAYS = usage.DAYS


@dataclass(frozen=True)
class ChannelUsage:
    channel: object
    answered: int
    failed: int
    tokens: int
    cost: Decimal

    @property
    def requests(self) -> int:
        return self.answered + self.failed


@dataclass(frozen=True)
class OrganisationUsage:
    usage: usage.Usage  # the days, summary and months of all the channels together
    channels: list[ChannelUsage]
    days: int

    @property
    def credits(self) -> int:
        return sum(c.channel.credits for c in self.channels)


def organisation_usage(organisation: Organisation, *, days: int = DAYS, now: dt.datetime | None = None) -> OrganisationUsage:
    """The organisation's last `days` UTC days (today included), in all and per channel."""
    now = now or timezone.now()
    summed = usage.organisation_usage(organisation=organisation, days=days, now=now)
    first, last = summed.days[0].day, summed.days[-1].day
    totals = {
        row["channel"]: row
        for row in UsageDay.objects.filter(channel__organisation=organisation, day__gte=first, day__lte=last)
        .order_by()
        .values("channel")
        .annotate(
            answered=Sum("answered"), limited=Sum("limited"), refused=Sum("refused"), errors=Sum("errors"),
            prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"), cost=Sum("cost"),
        )
    }
    channels = []
    for channel in organisation.channels.order_by("name", "id"):
        row = totals.get(channel.pk, {})
        channels.append(
            ChannelUsage(
                channel=channel,
                answered=row.get("answered") or 0,
                failed=(row.get("limited") or 0) + (row.get("refused") or 0) + (row.get("errors") or 0),
                tokens=(row.get("prompt") or 0) + (row.get("completion") or 0),
                cost=row.get("cost") or Decimal(0),
            )
        )
    return OrganisationUsage(usage=summed, channels=channels, days=days)
