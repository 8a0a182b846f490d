from alerts.models import Event, WebhookDelivery
from channels_app.models import Channel


def recent_deliveries(channel: Channel, limit: int = 50) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(event__channel=channel).select_related("event")[:limit])


def recent_events(channel: Channel, limit: int = 20) -> list[Event]:
    return list(Event.objects.filter(channel=channel)[:limit])
