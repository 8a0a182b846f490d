"""What an owner is told and how: thresholds, webhook endpoint, events, deliveries; and the jobs that died."""

import uuid

from django.core.validators import MaxValueValidator
from django.db import models

from channels_app.models import Channel


class AlertSettings(models.Model):
    """A channel's alert thresholds and webhook. The credits threshold is Channel.credit_alert_threshold."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="alert_settings")
    # Alert when today's chats reach this share of the daily limit (0: off).
    daily_limit_pct = models.PositiveSmallIntegerField(default=80, validators=[MaxValueValidator(100)])
    # Alert when this share of the last hour's chats failed upstream (5xx), over at least ERROR_RATE_MIN_REQUESTS.
    error_rate_pct = models.PositiveSmallIntegerField(default=20, validators=[MaxValueValidator(100)])
    email_enabled = models.BooleanField(default=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    # The signing secret, sealed in its own context (alerts/webhook_secret.py); shown to the owner once, when made.
    webhook_secret_ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    webhook_secret_hint = models.CharField(max_length=8, blank=True, editable=False)

    ERROR_RATE_MIN_REQUESTS = 10

    def __str__(self):
        return f"alerts of {self.channel}"


class AlertState(models.Model):
    """Whether a threshold is crossed now: an alert goes out when this flips to True, once per crossing."""

    class Kind(models.TextChoices):
        CREDITS_LOW = "credits.low"
        DAILY_LIMIT = "daily_limit.used"
        ERROR_RATE = "error_rate.high"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="alert_states")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    crossed = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "kind"], name="alertstate_one_per_kind")]


class Event(models.Model):
    """One thing the owner is told about, by e-mail and (when set) webhook."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="alert_events")
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.type} ({self.channel})"


class WebhookDelivery(models.Model):
    """One event POSTed to the channel's webhook, with how its latest attempt went."""

    class Status(models.TextChoices):
        PENDING = "pending"  # not yet delivered; retries are queued
        DELIVERED = "delivered"
        DEAD = "dead"  # every retry failed

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    url = models.URLField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"


class FailedJob(models.Model):
    """A background job that failed every retry (gateway/infra/jobs): the visible dead state."""

    name = models.CharField(max_length=64)
    kwargs = models.JSONField(default=dict)
    error = models.TextField()
    attempts = models.PositiveIntegerField()
    failed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.name} ({self.failed_at:%Y-%m-%d %H:%M})"
