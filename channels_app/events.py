"""The one way to tell a channel's owner something happened: e-mail, and a signed webhook when one is set.

    emit(channel, "model.retired", {"model": "llama-3.1-8b", "replacement": "..."})

Event types so far: "credits.low", "daily_limit.used", "error_rate.high" (thresholds, from
alerts/thresholds.py), "key.created", "key.rotated", "key.revoked", "model.retired", "channel.deactivated".
`data` must be JSON; it is shown in the e-mail and sent as the webhook's "data". Delivery is
a background job queued after the caller's transaction commits (nothing is sent if it rolls back).
"""

from channels_app.models import Channel


def emit(channel: Channel, event_type: str, data: dict | None = None) -> None:
    from alerts.services import event_emit  # alerts builds on channels_app, not the other way round

    event_emit(channel=channel, event_type=event_type, data=data or {})
