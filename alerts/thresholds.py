"""The three thresholds an owner sets, measured for every active channel by the periodic check."""

from datetime import timedelta

from django.utils import timezone

from alerts.models import AlertSettings, AlertState
from alerts.services import event_emit, settings_for, threshold_crossing
from channels_app.models import Channel
from conversations import limits
from conversations.models import FailedRequest, Message


def measure(channel: Channel, prefs: AlertSettings) -> dict[str, tuple[bool, dict]]:
    """For each kind: whether it is over its threshold now, and the figures an alert carries."""
    found = {
        AlertState.Kind.CREDITS_LOW: (
            channel.credits <= channel.credit_alert_threshold,
            {"credits_left": channel.credits, "threshold": channel.credit_alert_threshold},
        )
    }
    if prefs.daily_limit_pct and channel.daily_limit:
        used = limits.daily_used(channel)
        found[AlertState.Kind.DAILY_LIMIT] = (
            used * 100 >= prefs.daily_limit_pct * channel.daily_limit,
            {"used_today": used, "daily_limit": channel.daily_limit, "threshold_pct": prefs.daily_limit_pct},
        )
    if prefs.error_rate_pct:
        since = timezone.now() - timedelta(hours=1)
        failed = FailedRequest.objects.filter(channel=channel, created_at__gte=since, status__gte=500).count()
        answered = Message.objects.filter(
            session__channel=channel, role=Message.Role.ASSISTANT, created_at__gte=since
        ).count()
        total = failed + answered
        over = total >= AlertSettings.ERROR_RATE_MIN_REQUESTS and failed * 100 >= prefs.error_rate_pct * total
        found[AlertState.Kind.ERROR_RATE] = (
            over, {"failed_last_hour": failed, "requests_last_hour": total, "threshold_pct": prefs.error_rate_pct}
        )
    return found


def check_channel(channel: Channel) -> list[str]:
    """Alert on each threshold `channel` has just crossed; the kinds alerted."""
    prefs = settings_for(channel)
    alerted = []
    for kind, (over, data) in measure(channel, prefs).items():
        if threshold_crossing(channel=channel, kind=kind, over=over):
            event_emit(channel=channel, event_type=kind, data=data)
            alerted.append(kind)
    return alerted


def check_all() -> None:
    for channel in Channel.objects.filter(is_active=True).iterator():
        check_channel(channel)
