"""Reads for the dashboard, scoped by the one policy (teams/policy.py) to what the signed-in member may see."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from channels_app.models import ApiKey, Channel, KeyReveal, PublishableKey
from conversations.models import UsageDay
from teams import policy


def get_channel_for_user(request: HttpRequest, public_id) -> Channel:
    """The channel the view's policy decision (`@teams.policy.requires`) allowed; 404 for one outside the user's organisations."""
    return policy.decided_channel(request, public_id)


def get_key_for_channel(channel: Channel, public_id) -> ApiKey:
    """A key of this channel (so of the same owner); 404 for any other."""
    return get_object_or_404(ApiKey.objects.select_related("channel"), public_id=public_id, channel=channel)


def get_open_key_for_channel(channel: Channel, public_id) -> ApiKey:
    """A key of this channel with no end date yet (one to rotate); 404 for any other, or a malformed id."""
    try:
        return get_object_or_404(ApiKey, public_id=public_id, channel=channel, revoked_at__isnull=True)
    except ValidationError:
        raise Http404() from None


def _active_keys() -> Prefetch:
    return Prefetch(
        "api_keys",
        queryset=ApiKey.objects.filter(revoked_at__isnull=True).order_by("-created_at", "-id"),
        to_attr="active_keys",
    )


@dataclass(frozen=True)
class ChannelCard:
    channel: Channel
    key: ApiKey | None
    today_requests: int
    last_activity: dt.datetime | None

    @property
    def today_ratio_pct(self) -> int:
        limit = self.channel.daily_limit or 1
        return min(100, round(100 * self.today_requests / limit))


def _utc_midnight(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _annotated(channels: QuerySet, now: dt.datetime) -> QuerySet:
    """Today's answered chats (the ones the daily limit counts) and the latest activity, in one query.

    Both come from the usage roll-up (conversations/engine/rollups.py), a few indexed shard rows per channel and
    day, never from the messages: the cards cost the same whatever the history.
    """
    usage = UsageDay.objects.filter(channel=OuterRef("pk"))
    today = usage.filter(day=_utc_midnight(now).date()).order_by().values("channel").annotate(n=Sum("answered"))
    return channels.prefetch_related(_active_keys()).annotate(
        today_requests=Coalesce(Subquery(today.values("n")), 0),
        # The latest day's shards, latest first: the index gives the day, a few rows are sorted.
        last_message_at=Subquery(usage.filter(last_at__isnull=False).order_by("-day", "-last_at").values("last_at")[:1]),
        last_key_use_at=Subquery(
            ApiKey.objects.filter(channel=OuterRef("pk"), last_used_at__isnull=False)
            .order_by("-last_used_at")
            .values("last_used_at")[:1]
        ),
    )


def _card(channel: Channel, now: dt.datetime) -> ChannelCard:
    times = [t for t in (channel.last_message_at, channel.last_key_use_at) if t is not None]
    return ChannelCard(
        channel=channel,
        # The key to hand out: the newest one with no end date.
        key=channel.active_keys[0] if channel.active_keys else None,
        today_requests=channel.today_requests,
        last_activity=max(times) if times else None,
    )


def channel_cards_for_organisation(organisation, now: dt.datetime | None = None) -> list[ChannelCard]:
    now = now or timezone.now()
    channels = _annotated(Channel.objects.filter(organisation=organisation).order_by("-created_at", "-id"), now)
    return [_card(c, now) for c in channels]


def channel_card(channel: Channel, now: dt.datetime | None = None) -> ChannelCard:
    now = now or timezone.now()
    return _card(_annotated(Channel.objects.filter(pk=channel.pk), now).get(), now)


def channel_keys(channel: Channel) -> list[ApiKey]:
    """All of the channel's keys, newest first, with how often each was revealed."""
    return list(
        channel.api_keys.annotate(reveal_count=Count("reveals"), last_revealed_at=Max("reveals__created_at")).order_by(
            "-created_at", "-id"
        )
    )


def key_reveals(channel: Channel, limit: int = 20) -> list[KeyReveal]:
    """The latest reveals of the channel's keys: who, when, which key."""
    return list(
        KeyReveal.objects.filter(api_key__channel=channel).select_related("api_key", "user").order_by(
            "-created_at", "-id"
        )[:limit]
    )


def card_key(channel: Channel) -> ApiKey | None:
    """The key to hand out: the newest one with no end date."""
    return channel.api_keys.filter(revoked_at__isnull=True).order_by("-created_at", "-id").first()


def get_publishable_key_for_channel(channel: Channel, public_id) -> PublishableKey:
    """A publishable key of this channel (so of the same owner); 404 for any other."""
    return get_object_or_404(PublishableKey, public_id=public_id, channel=channel)


def publishable_keys_working(channel: Channel, now: dt.datetime | None = None) -> list[PublishableKey]:
    """The channel's publishable keys that still work (the open one, and any in a grace period), newest first."""
    now = now or timezone.now()
    return list(
        channel.publishable_keys.filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now)).order_by("-created_at", "-id")
    )


def open_notices(owner, limit: int = 5) -> list:
    """The owner's notices not yet dismissed, newest first (OwnerNotice: e.g. a model retired under a channel)."""
    from channels_app.providers.catalog_models import OwnerNotice

    return list(OwnerNotice.objects.filter(owner=owner, dismissed_at__isnull=True).order_by("-created_at")[:limit])
