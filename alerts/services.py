"""Alerts: events queued for e-mail and webhook, thresholds claimed once per crossing, deliveries, dead jobs."""

import json
import time

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts import signing, webhook_secret
from alerts.models import AlertSettings, AlertState, Event, FailedJob, WebhookDelivery
from channels_app.models import Channel
from gateway.infra import jobs, outbound

DESCRIPTIONS = {
    AlertState.Kind.CREDITS_LOW: "credits are running low",
    AlertState.Kind.DAILY_LIMIT: "today's chats are near the daily limit",
    AlertState.Kind.ERROR_RATE: "many chats are failing",
    "key.created": "an API key was created",
    "key.rotated": "an API key was rotated",
    "key.revoked": "an API key was revoked",
    "model.retired": "a model the channel uses was retired",
    "channel.deactivated": "the channel was deactivated",
}


def settings_for(channel: Channel) -> AlertSettings:
    return AlertSettings.objects.get_or_create(channel=channel)[0]


def event_emit(*, channel: Channel, event_type: str, data: dict) -> Event:
    """Record the event and queue its e-mail and (when a webhook is set) its delivery, after commit."""
    prefs = settings_for(channel)
    with transaction.atomic():
        event = Event.objects.create(channel=channel, type=event_type, data=data)
        if prefs.email_enabled:
            jobs.enqueue("alerts.email", event_id=event.pk)
        if prefs.webhook_url and prefs.webhook_secret_ciphertext:
            delivery = WebhookDelivery.objects.create(event=event, url=prefs.webhook_url)
            jobs.enqueue("alerts.webhook", delivery_id=delivery.pk)
    return event


def on_channel_event(sender, *, channel: Channel, event_type: str, data: dict, **kwargs) -> None:
    """The receiver of channels_app.events.emitted: every event a channel emits is recorded and sent."""
    event_emit(channel=channel, event_type=event_type, data=data)


def event_send_email(*, event_id: int) -> None:
    """E-mail the owner about the event, once: a run after a successful send sends nothing."""
    event = Event.objects.select_related("channel__owner").filter(pk=event_id).first()
    if event is None or event.email_sent_at is not None:  # sent already, or its channel is gone
        return
    channel = event.channel
    what = DESCRIPTIONS.get(event.type, event.type)
    lines = [f"On your channel “{channel.name}”, {what}.", ""]
    lines += [f"{k.replace('_', ' ')}: {v}" for k, v in sorted(event.data.items())]
    send_mail(
        subject=f"[AI Gateway] {channel.name}: {what}",
        message="\n".join(lines),
        from_email=None,
        recipient_list=[channel.owner.email],
    )
    Event.objects.filter(pk=event.pk, email_sent_at__isnull=True).update(email_sent_at=timezone.now())


def payload(event: Event) -> bytes:
    return json.dumps(
        {
            "id": str(event.public_id),
            "type": event.type,
            "channel": str(event.channel.public_id),
            "created_at": event.created_at.isoformat(),
            "data": event.data,
        },
        separators=(",", ":"),
    ).encode()


class DeliveryFailed(Exception):
    pass


def webhook_deliver(*, delivery_id: int) -> None:
    """POST the event, signed; raises DeliveryFailed (so the job retries) unless the receiver answers 2xx."""
    delivery = WebhookDelivery.objects.select_related("event__channel__alert_settings").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return  # delivered (or given up) already: a retried job does nothing
    channel = delivery.event.channel
    secret = webhook_secret.decrypt(channel.alert_settings.webhook_secret_ciphertext, channel.public_id)
    body = payload(delivery.event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "AI-Gateway-Webhook/1",
        "X-Gateway-Event": delivery.event.type,
        "X-Gateway-Delivery": str(delivery.public_id),
        "X-Gateway-Timestamp": str(timestamp),
        "X-Gateway-Signature": signing.sign(secret, timestamp, body),
    }
    code, error = None, ""
    try:
        # The address is checked again here: the saved URL's DNS may point elsewhere by now.
        response = outbound.request("POST", delivery.url, content=body, headers=headers,
                                    timeout=settings.WEBHOOK_TIMEOUT_SECONDS, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except httpx.TimeoutException:
        error = "timed out"
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    except outbound.Refused as exc:
        error = str(exc)
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        attempts=F("attempts") + 1, response_code=code, error=error[:200],
        status=WebhookDelivery.Status.PENDING if error else WebhookDelivery.Status.DELIVERED,
        updated_at=timezone.now(),
    )
    if error:
        raise DeliveryFailed(error)


def webhook_give_up(*, delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.DEAD, updated_at=timezone.now()
    )


def webhook_set(*, channel: Channel, url: str) -> str | None:
    """Set (or clear, with "") the webhook URL; a new secret is made when there was none: returned, to show once."""
    prefs = settings_for(channel)
    prefs.webhook_url = url
    prefs.save(update_fields=["webhook_url"])
    if url and not prefs.webhook_secret_ciphertext:
        return webhook_secret_rotate(channel=channel)
    return None


def webhook_secret_rotate(*, channel: Channel) -> str:
    """A new signing secret (the old one stops at once); the plaintext, to show once and never again."""
    secret = signing.generate_secret()
    prefs = settings_for(channel)
    prefs.webhook_secret_ciphertext = webhook_secret.encrypt(secret, channel.public_id)
    prefs.webhook_secret_hint = secret[-4:]
    prefs.save(update_fields=["webhook_secret_ciphertext", "webhook_secret_hint"])
    return secret


def threshold_crossing(*, channel: Channel, kind: str, over: bool) -> bool:
    """Record whether `kind` is over its threshold now; True only for the one call that sees it cross.

    Claimed with a conditional UPDATE, so two workers (or processes) checking at once alert once.
    """
    state, _ = AlertState.objects.get_or_create(channel=channel, kind=kind)
    changed = AlertState.objects.filter(pk=state.pk, crossed=not over).update(crossed=over, changed_at=timezone.now())
    return over and changed == 1


def job_dead(*, name: str, kwargs: dict, error: str, attempts: int) -> None:
    """Where gateway/infra/jobs records a job that failed every retry (JOB_DEAD_LETTER)."""
    FailedJob.objects.create(name=name, kwargs=kwargs, error=error[:5000], attempts=attempts)
