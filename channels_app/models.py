import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from channels_app import catalog, keys


def _default_credits() -> int:
    return settings.NEW_CHANNEL_CREDITS


class Channel(models.Model):
    """One site or app of an owner: its model, prompt, limits and credits."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_channels")
    name = models.CharField(max_length=100)
    model = models.CharField(max_length=64, choices=catalog.CHOICES, default=catalog.DEFAULT_MODEL_ID)
    # Tried once when the provider fails on `model` (before any token, when streaming).
    fallback_model = models.CharField(max_length=64, choices=catalog.CHOICES, blank=True, default="")
    system_prompt = models.TextField(blank=True, max_length=8000)
    is_active = models.BooleanField(default=True)
    rate_limit_per_minute = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    daily_limit = models.PositiveIntegerField(default=1000, validators=[MinValueValidator(1)])
    # One credit pays for one successful chat. Changed only by conditional
    # UPDATEs in services, never by read-modify-write.
    credits = models.PositiveIntegerField(default=_default_credits)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(credits__gte=0), name="channel_credits_not_negative")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.fallback_model and self.fallback_model == self.model:
            raise ValidationError({"fallback_model": "The fallback model must differ from the channel's model."})

    @property
    def catalog_model(self) -> catalog.CatalogModel:
        return catalog.get_model(self.model)

    @property
    def catalog_fallback(self) -> catalog.CatalogModel | None:
        return catalog.get_model(self.fallback_model) if self.fallback_model else None


class ApiKey(models.Model):
    """A channel's secret key, stored only as ciphertext and a lookup digest."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="api_keys")
    ciphertext = models.BinaryField(editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # A key stops working at revoked_at; a future value is a rotation's grace period.
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return self.masked

    @property
    def masked(self) -> str:
        return keys.mask(self.hint)

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None or self.revoked_at > now

    def reveal(self) -> str:
        """The plaintext key, for showing to its owner. Never log the result."""
        return keys.decrypt(self.ciphertext, self.channel.public_id)


class KeyReveal(models.Model):
    """An audit record: who saw which key's plaintext, when and from where."""

    class Action(models.TextChoices):
        REVEAL = "reveal", "Revealed"
        ROTATE = "rotate", "Issued by rotation"

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="reveals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.REVEAL)
    ip_address = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["api_key", "-created_at"], name="keyreveal_key_recent")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.api_key.masked}"
