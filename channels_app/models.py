import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from channels_app import keys, origins
from channels_app.providers import catalog


def _default_credits() -> int:
    # Credits come from channel_create: an explicit amount (staff, CLI) or the owner's one
    # starting grant (channels_app/starting_credits.py). A channel made any other way starts empty.
    return 0


class Channel(models.Model):
    """One site or app of an owner: its model, prompt, limits and credits."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Who made it (the per-owner cap and starting credits count by it); who may use it is the organisation's
    # business (teams/policy.py).
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_channels")
    organisation = models.ForeignKey("teams.Organisation", on_delete=models.PROTECT, related_name="channels")
    # Chats take their credit from the organisation's balance instead of the channel's own
    # (channels_app/organisation_credits.py sets it; channels_app/services.py's credit hold reads it).
    draws_from_organisation = models.BooleanField(default=False)
    name = models.CharField(max_length=100)
    # An AiModel's slug (channels_app/providers/catalog_models.py): checked against the catalog by the services and forms.
    model = models.CharField(max_length=64, default=catalog.DEFAULT_MODEL_ID)
    # Tried once when the provider fails on `model` (before any token, when streaming).
    fallback_model = models.CharField(max_length=64, blank=True, default="")
    # The longest reply asked of the model (`max_tokens`), never more than the model allows (docs/dashboard.md).
    max_reply_tokens = models.PositiveIntegerField(
        "maximum reply length", default=1024, validators=[MinValueValidator(16), MaxValueValidator(1_000_000)],
        help_text="In tokens (about ¾ of a word each); at most what the model can write.",
    )
    system_prompt = models.TextField(blank=True, max_length=8000)

    class ClientSystemMessages(models.TextChoices):
        """What /v1/chat/completions does with the client's own system messages (docs/api.md)."""

        PREPEND = "prepend", "Allow: sent after the channel's system prompt"
        REFUSE = "refuse", "Refuse: such requests get 400"

    client_system_messages = models.CharField(
        max_length=8, choices=ClientSystemMessages.choices, default=ClientSystemMessages.PREPEND
    )
    is_active = models.BooleanField(default=True)
    rate_limit_per_minute = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    daily_limit = models.PositiveIntegerField(default=1000, validators=[MinValueValidator(1)])
    # One credit pays for one successful chat. Changed only by conditional
    # UPDATEs in services, never by read-modify-write.
    credits = models.PositiveIntegerField(default=_default_credits)
    # The embeddable widget (docs/widget.md): where its publishable key works,
    # what one visitor may use, and how it looks.
    allowed_origins = models.JSONField(default=list, blank=True, help_text="Exact origins, e.g. https://www.example.com")
    visitor_rate_limit_per_minute = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1)])
    visitor_daily_limit = models.PositiveIntegerField(default=50, validators=[MinValueValidator(1)])
    # Below the starting credits (NEW_CHANNEL_CREDITS): one address cannot spend them all (docs/widget.md).
    visitor_ip_daily_limit = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1)])
    # Per address over all its sessions, chat and history counted separately: session ids are the visitor's to invent.
    visitor_ip_rate_limit_per_minute = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1)])
    # What all widget (publishable-key) traffic together may use of the channel, per minute and per UTC day:
    # this share of rate_limit_per_minute, of daily_limit and of the credits. The rest stays the backend's.
    widget_share_percent = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    # Widget chats must carry a solved ALTCHA proof-of-work challenge (GET /api/widget-challenge).
    widget_pow_required = models.BooleanField(default=False)
    widget_title = models.CharField(max_length=60, default="Chat with us")
    widget_greeting = models.CharField(max_length=300, blank=True, default="Hi! How can I help?")
    widget_color = models.CharField(
        max_length=7, default="#2563eb", validators=[RegexValidator(r"^#[0-9a-fA-F]{6}\Z", "Give a colour as #rrggbb.")]
    )
    # The owner is warned on the dashboard at or below this many credits (0: only when they run out).
    credit_alert_threshold = models.PositiveIntegerField(default=10, validators=[MaxValueValidator(10_000_000)])
    # Conversations (and their feedback, failed-request rows) older than this are purged
    # (conversations/engine/retention.py); docs/dashboard.md#retention documents the default.
    retention_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Days a conversation is kept after its last message; older ones are deleted.",
    )
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
        model = catalog.find(self.model)
        if model is not None and self.max_reply_tokens and self.max_reply_tokens > model.max_output:
            raise ValidationError(
                {"max_reply_tokens": f"{model.name} writes at most {model.max_output:,} tokens per reply."}
            )
        try:
            self.allowed_origins = origins.normalise_list(self.allowed_origins)
        except ValidationError as exc:
            raise ValidationError({"allowed_origins": exc.messages}) from None
        self.widget_color = (self.widget_color or "").lower()

    def widget_settings(self) -> dict:
        """What the widget may know about its channel: looks only, no limits or credits."""
        settings = {"title": self.widget_title, "greeting": self.widget_greeting, "color": self.widget_color}
        if self.widget_pow_required:  # only then: a widget without the switch needs to know nothing more
            settings["pow_required"] = True
        return settings

    @property
    def credit_state(self) -> str:
        """"empty" (the API refuses chats with 403), "low" (at or below the owner's threshold) or "ok";
        "organisation" when chats draw from the organisation's balance (its own credits are not spent)."""
        if self.draws_from_organisation:
            return "organisation"
        if self.credits == 0:
            return "empty"
        return "low" if self.credits <= self.credit_alert_threshold else "ok"

    @property
    def catalog_model(self) -> catalog.CatalogModel:
        return catalog.get_model(self.model)

    @property
    def catalog_fallback(self) -> catalog.CatalogModel | None:
        return catalog.get_model(self.fallback_model) if self.fallback_model else None



class ApiKey(models.Model):
    """A channel's secret key, stored only as ciphertext and a lookup digest.

    A channel has as many as its owner names (one per backend, say); each may have its own per-minute
    limit and a cap on the credits it may spend, on top of the channel's. The key edge carries them in the
    VerifiedKey (channels_app/credentials.py); the credit hold counts `credits_spent` (channels_app/services.py).
    """

    NAME_MAX = 60
    DEFAULT_NAME = "Default"
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=NAME_MAX, default=DEFAULT_NAME)
    # None: only the channel's limit applies.
    rate_limit_per_minute = models.PositiveIntegerField(
        "requests per minute", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Empty: only the channel's limit applies.",
    )
    # The most credits chats with this key may take, ever (None: no cap but the channel's credits).
    credit_cap = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(1_000_000_000)],
        help_text="Empty: no cap of its own; the channel's credits still apply.",
    )
    # Credits its chats took, counted only while it has a cap (a conditional UPDATE in the credit hold).
    credits_spent = models.PositiveIntegerField(default=0, editable=False)
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

    @property
    def credits_left(self) -> int | None:
        """What its cap still allows; None without a cap."""
        return None if self.credit_cap is None else max(0, self.credit_cap - self.credits_spent)

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None or self.revoked_at > now

    def reveal(self) -> str:
        """The plaintext key, for showing to its owner. Never log the result."""
        return keys.decrypt(self.ciphertext, self.channel.public_id)


class PublishableKey(models.Model):
    """A channel's key for the embeddable widget: public by design, stored and shown as-is.

    It works only for chat and history, only from the channel's allowed origins,
    under per-visitor limits. At most one per channel is open (revoked_at unset);
    a rotated one may keep working for a grace period, like a secret key.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="publishable_keys")
    key = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # A key stops working at revoked_at; a future value is a rotation's grace period.
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel"], condition=Q(revoked_at__isnull=True), name="one_open_publishable_key_per_channel"
            )
        ]

    def __str__(self) -> str:
        return self.key

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None or self.revoked_at > now

    def allows_origin(self, origin: str | None) -> bool:
        """Exact match against the channel's normalised list: browsers send the Origin canonical."""
        return bool(origin) and origin in self.channel.allowed_origins


class KeyReveal(models.Model):
    """An audit record: who saw which key's plaintext, when and from where."""

    class Action(models.TextChoices):
        REVEAL = "reveal", "Revealed"
        ROTATE = "rotate", "Issued by rotation"
        CREATE = "create", "Created"

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


class CreditRequest(models.Model):
    """An owner's request for more credits on a channel, which staff grant or decline in admin."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for staff"
        GRANTED = "granted", "Granted"
        DECLINED = "declined", "Declined"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="credit_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    amount = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(1_000_000)])
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel"], condition=Q(status="pending"), name="creditrequest_one_pending_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount:,} credits for {self.channel} ({self.get_status_display()})"


class CreditGrant(models.Model):
    """An audit record: credits staff added to a channel, by whom, and why (a request, or a top-up)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="credit_grants")
    amount = models.PositiveIntegerField()
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    request = models.OneToOneField(CreditRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="grant")
    balance_after = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"+{self.amount:,} credits to {self.channel}"


class RefusedOrigin(models.Model):
    """A page origin the widget's publishable key was used from, but the channel does not allow.

    Counted so the owner sees where their widget is embedded without working
    (channels_app/refused_origins.py). At most MAX_PER_CHANNEL origins per channel.
    """

    MAX_PER_CHANNEL = 50
    ORIGIN_MAX = 255
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="refused_origins")
    origin = models.CharField(max_length=ORIGIN_MAX)
    count = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "origin"], name="refused_origin_unique")]
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.origin} ×{self.count}"



class CreditHold(models.Model):
    """The token of one credit a chat holds (the PostgreSQL chat store, conversations/engine/store/postgresql.py).

    Written by the statement that takes the credit, in its transaction, and deleted by the one that stores the
    chat or gives the credit back: a store or a release acts only when it deleted the token, so a hold a
    database crash lost (with its token) is neither stored nor given back (channels_app/services.py,
    CREDIT_HOLD_TOKEN). Rows live only while a chat is in flight.
    """

    # No database constraints and no index but the key's: the hold's insert, on every chat, would check the
    # referenced rows and update more indexes; the table holds only the chats in flight. Deleting a channel or
    # key deletes its tokens through Django; one left behind gives back to no row.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+")
    held_from = models.CharField(max_length=12)  # "channel" or "organisation" (services.HELD_FROM_*)
    key = models.ForeignKey(
        ApiKey, on_delete=models.CASCADE, db_constraint=False, db_index=False, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"credit held from {self.held_from} {self.channel_id}"

# The catalog's models live in their own file; importing them here registers them with this app.
from channels_app.providers.catalog_models import AiModel, OwnerNotice, Provider  # noqa: E402,F401
