"""The one way to tell a channel's owner something happened: e-mail, and a signed webhook when one is set.

    emit(channel, "model.retired", {"model": "llama-3.1-8b", "replacement": "..."})

Event types so far: "credits.low", "daily_limit.used", "error_rate.high" (thresholds, from
alerts/thresholds.py), "key.created", "key.rotated", "key.revoked", "model.retired", "channel.deactivated".
`data` must be JSON; it is shown in the e-mail and sent as the webhook's "data". Delivery is
a background job queued after the caller's transaction commits (nothing is sent if it rolls back).

Channels sit below alerts in the layers, so they only send the `emitted` signal; alerts connects its
recorder to it when the app is ready (alerts/apps.py). The signal is sent, not sent robustly: a failure
to record the event fails the caller, as a direct call would.
"""

from django.dispatch import Signal

from channels_app.models import Channel

# Sent with channel=, event_type=, data= (a dict); sender is the Channel class.
emitted = Signal()


def emit(channel: Channel, event_type: str, data: dict | None = None) -> None:
    emitted.send(sender=Channel, channel=channel, event_type=event_type, data=data or {})
