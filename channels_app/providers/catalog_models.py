"""The model catalog in the database: upstream providers, the models channels use, and owners' notices.

Staff manage them in the admin (channels_app/admin_catalog.py) or with
`manage.py providers` / `manage.py models`; chats read them through the
per-process snapshot in channels_app/providers/catalog.py, never row by row.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from channels_app import keys

MILLION = Decimal(1_000_000)


class Provider(models.Model):
    """An OpenAI-compatible upstream: its base URL, its key (sealed) and its timeouts.

    The *environment* provider takes its URL and key from LLM_BASE_URL and
    LLM_API_KEY, so an install configured by the environment alone needs no
    provider set up by staff; with no key there, its models answer from the offline demo.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=64, unique=True)
    from_environment = models.BooleanField(
        default=False, help_text="Use LLM_BASE_URL and LLM_API_KEY from the environment instead of the fields below."
    )
    base_url = models.URLField(
        max_length=300, blank=True, help_text="OpenAI-compatible, up to /v1, e.g. https://api.openai.com/v1"
    )
    key_ciphertext = models.BinaryField(editable=False, null=True)
    key_hint = models.CharField(max_length=4, blank=True, editable=False)
    key_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Seconds; empty: the LLM_* setting of the same name.
    connect_timeout = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.1)])
    read_timeout = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.1)])
    total_timeout = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.1)])
    enabled = models.BooleanField(default=True)
    # What its GET /models answered at the last `models sync` (channels_app/providers/catalog_sync.py): the ids it serves
    # that no catalog model uses, for staff to add, and why the list could not be read.
    models_missing = models.JSONField(default=list, blank=True, editable=False)
    models_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    models_check_error = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if not self.from_environment and not self.base_url:
            raise ValidationError({"base_url": "Give the provider's base URL (or take it from the environment)."})

    @property
    def has_key(self) -> bool:
        return self.from_environment or self.key_ciphertext is not None

    def set_key(self, raw: str) -> None:
        """Seal a new upstream key (an empty one removes it). Save afterwards."""
        from django.utils import timezone

        if raw:
            self.key_ciphertext = keys.encrypt_provider_key(raw, self.public_id)
            self.key_hint = keys.provider_key_hint(raw)
        else:
            self.key_ciphertext, self.key_hint = None, ""
        self.key_set_at = timezone.now()

    def api_key(self) -> str:
        """The upstream key in clear, for the provider call only (never shown, never logged)."""
        if self.from_environment:
            return settings.LLM_API_KEY
        return keys.decrypt_provider_key(self.key_ciphertext, self.public_id) if self.key_ciphertext else ""


class AiModel(models.Model):
    """A model owners can pick: what it is called, who serves it under which id, its limits and prices."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DEPRECATED = "deprecated", "Deprecated"  # still serves; owners are told; retired on retires_on
        RETIRED = "retired", "Retired"  # serves no chat: its channels moved to the replacement

    slug = models.CharField(
        "model id",
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*\Z", "Letters, digits and . _ : / - only.")],
        help_text="The id owners and API clients see.",
    )
    name = models.CharField(max_length=64)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="models")
    upstream_id = models.CharField(
        "provider's model id", max_length=128, blank=True, help_text="Empty: the same as the model id."
    )
    context_window = models.PositiveIntegerField(validators=[MinValueValidator(256)])
    max_output = models.PositiveIntegerField(validators=[MinValueValidator(16)])
    input_price = models.DecimalField(
        "input price", max_digits=10, decimal_places=4, default=Decimal(0), help_text="US dollars per million tokens."
    )
    output_price = models.DecimalField(
        "output price", max_digits=10, decimal_places=4, default=Decimal(0), help_text="US dollars per million tokens."
    )
    speed = models.CharField(max_length=32, blank=True)
    best_for = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    retires_on = models.DateField(null=True, blank=True, help_text="A deprecated model is retired on this day (UTC).")
    replacement = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaces",
        help_text="Where its channels move when it is retired.",
    )
    position = models.PositiveSmallIntegerField(default=100, help_text="Order in the owners' list.")
    # What the provider documents the model as able to do; the API answers by these (tools, JSON output, reasoning).
    supports_streaming = models.BooleanField("streaming", default=True, help_text="Replies can be streamed (stream: true).")
    supports_tools = models.BooleanField("tool calling", default=False, help_text="Accepts `tools` and answers with tool calls.")
    supports_json_object = models.BooleanField(
        "JSON mode", default=False, help_text='Accepts response_format {"type": "json_object"}.'
    )
    supports_json_schema = models.BooleanField(
        "JSON schema", default=False, help_text='Accepts response_format {"type": "json_schema"} (structured outputs).'
    )
    supports_reasoning = models.BooleanField(
        "reasoning", default=False, help_text="Thinks before answering; accepts reasoning_effort and returns its reasoning apart."
    )
    supports_vision = models.BooleanField("vision", default=False, help_text="Accepts images in the messages.")

    class Effort(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    # Sent as `reasoning_effort` to a reasoning model only; low keeps replies quick and cheap for a chat widget.
    reasoning_effort = models.CharField(
        max_length=6, choices=Effort.choices, default=Effort.LOW,
        help_text="How long a reasoning model thinks before it answers (more: slower, more tokens billed).",
    )
    # Set when the provider answered that the model is gone (decommissioned / not found): staff must act.
    attention = models.TextField(blank=True, editable=False)
    attention_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = "AI model"

    def __str__(self) -> str:
        return self.slug

    def clean(self):
        if self.replacement_id is not None and self.replacement_id == self.pk:
            raise ValidationError({"replacement": "A model cannot replace itself."})
        if self.status == self.Status.DEPRECATED and self.retires_on is None:
            raise ValidationError({"retires_on": "A deprecated model needs the day it retires."})
        if self.status != self.Status.ACTIVE and self.replacement_id is None:
            raise ValidationError({"replacement": "Name the model its channels move to."})
        if self.replacement is not None and self.replacement.status == self.Status.RETIRED:
            raise ValidationError({"replacement": "The replacement is retired itself."})


class OwnerNotice(models.Model):
    """Something the gateway did to an owner's channel without them (a model retired): shown on the dashboard."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    channel = models.ForeignKey("channels_app.Channel", on_delete=models.CASCADE, null=True, related_name="notices")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "dismissed_at"], name="notice_owner_open")]

    def __str__(self) -> str:
        return self.text[:60]
