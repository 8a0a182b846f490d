"""The three thresholds an owner sets, measured for every active channel by the periodic check."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from alerts.models import AlertSettings, AlertState
from alerts.services import event_emit, settings_for, threshold_crossing
from channels_app.models import Channel
from conversations.engine import limits
from conversations.models import FailedRequest, Message


def measure(channel: Channel, prefs: AlertSettings, last_hour: "LastHour | None" = None) -> dict[str, tuple[bool, dict]]:
    """For each kind: whether it is over its threshold now, and the figures an alert carries.

    `last_hour`: the last hour's counts of every channel, read once for a whole check (`last_hour_counts`);
    without it, this channel's are read alone.
    """
    # A channel that spends its organisation's credits runs out when the organisation does.
    credits = channel.organisation.credits if channel.draws_from_organisation else channel.credits
    found = {
        AlertState.Kind.CREDITS_LOW: (
            credits <= channel.credit_alert_threshold,
            {"credits_left": credits, "threshold": channel.credit_alert_threshold},
        )
    }
    if prefs.daily_limit_pct and channel.daily_limit:
        used = limits.daily_used(channel)
        found[AlertState.Kind.DAILY_LIMIT] = (
            used * 100 >= prefs.daily_limit_pct * channel.daily_limit,
            {"used_today": used, "daily_limit": channel.daily_limit, "threshold_pct": prefs.daily_limit_pct},
        )
    if prefs.error_rate_pct:
        counts = last_hour if last_hour is not None else last_hour_counts(channel_ids=[channel.pk])
        failed, answered = counts.failed.get(channel.pk, 0), counts.answered.get(channel.pk, 0)
        total = failed + answered
        over = total >= AlertSettings.ERROR_RATE_MIN_REQUESTS and failed * 100 >= prefs.error_rate_pct * total
        found[AlertState.Kind.ERROR_RATE] = (
            over, {"failed_last_hour": failed, "requests_last_hour": total, "threshold_pct": prefs.error_rate_pct}
        )
    return found


@dataclass(frozen=True)
class LastHour:
    failed: dict[int, int]  # channel id -> upstream failures (5xx) in the last hour
    answered: dict[int, int]  # channel id -> replies stored in the last hour


def last_hour_counts(channel_ids: list[int] | None = None) -> LastHour:
    """The last hour's failures and replies per channel: two grouped queries for every channel at once.

    Not channel by channel: that is two queries per channel, each walking the last hour of every channel's
    messages through the time index (the channel is on the session), so a check would cost the number of
    channels times the last hour's traffic, every minute in every server process.
    """
    since = timezone.now() - timedelta(hours=1)
    failed = FailedRequest.objects.filter(created_at__gte=since, status__gte=500)
    answered = Message.objects.filter(role=Message.Role.ASSISTANT, created_at__gte=since)
    if channel_ids is not None:
        failed, answered = failed.filter(channel_id__in=channel_ids), answered.filter(session__channel_id__in=channel_ids)
    return LastHour(
        failed=dict(failed.values("channel_id").annotate(n=Count("id")).values_list("channel_id", "n")),
        answered=dict(answered.values("session__channel_id").annotate(n=Count("id")).values_list("session__channel_id", "n")),
    )


def check_channel(channel: Channel, last_hour: LastHour | None = None, crossed: dict | None = None) -> list[str]:
    """Alert on each threshold `channel` has just crossed; the kinds alerted.

    `crossed`: every channel's states as a check read them at its start, {(channel id, kind): crossed}; a kind
    whose state already says what it measures now has nothing to claim, and costs no query. (The claim itself,
    services.threshold_crossing, stays the one guard of "once per crossing", whatever a snapshot said.)
    """
    prefs = getattr(channel, "alert_settings", None) or settings_for(channel)
    alerted = []
    for kind, (over, data) in measure(channel, prefs, last_hour).items():
        if crossed is not None and crossed.get((channel.pk, kind), False) == over:
            continue
        if threshold_crossing(channel=channel, kind=kind, over=over):
            event_emit(channel=channel, event_type=kind, data=data)
            alerted.append(kind)
    return alerted


def check_all() -> None:
    """Every active channel's thresholds: a handful of queries for all of them, plus one claim per change."""
    last_hour = last_hour_counts()
    crossed = {(state.channel_id, state.kind): state.crossed for state in AlertState.objects.only("channel", "kind", "crossed")}
    for channel in Channel.objects.filter(is_active=True).select_related("alert_settings", "organisation").iterator():
        check_channel(channel, last_hour, crossed)
