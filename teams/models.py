import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from teams.roles import Role


class Organisation(models.Model):
    """Who owns channels: a team, or one person's own (`personal`)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    # Made for one user (at sign-up, or by the migration that gave each owner of old a home);
    # it can gain members like any other.
    personal_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Audit entries older than this are purged (teams/audit.py), like conversations' retention.
    audit_retention_days = models.PositiveIntegerField(default=365)
    # Credits held by the organisation itself, moved to and from its channels by its owners and admins
    # (channels_app/organisation_credits.py), granted by staff (teams/credits.py).
    credits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="membership_once_per_org")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.organisation}"


class AuditEntry(models.Model):
    """Who changed what in an organisation, when and from where: before → after, never a secret."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Kept when the user is deleted, so the log still says who.
    actor_email = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=48)
    # What it was done to, as shown: "channel Shop", "member ana@example.com".
    target = models.CharField(max_length=200, blank=True)
    channel_public_id = models.UUIDField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)  # {"field": [before, after]}
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="auditentry_org_recent")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_email}"


class Invitation(models.Model):
    """An invitation to join an organisation, bound to one address, single-use, expiring.

    Only a digest of its token is stored: the token itself is in the e-mail alone.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_address",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organisation}"


class SsoConfig(models.Model):
    """An organisation's OpenID Connect provider. The client secret is stored only encrypted (teams/sso_secret.py)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="sso")
    issuer = models.URLField(help_text="The provider's issuer URL, e.g. https://login.example.com/")
    client_id = models.CharField(max_length=200)
    client_secret_ciphertext = models.BinaryField(editable=False)
    default_role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANALYST)
    # Members with an address in one of the organisation's verified domains must then sign in through the provider.
    sso_required = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"SSO of {self.organisation}"


class SsoDomain(models.Model):
    """An e-mail domain an organisation claims for single sign-on. It lets new people in only once verified
    (teams/sso_domains.py): by the DNS TXT record shown on the SSO page, by staff, or with `manage.py sso_domains`.
    A domain verified by one organisation cannot be claimed by another."""

    class Method(models.TextChoices):
        DNS = "dns", "DNS TXT record"
        STAFF = "staff", "Staff (admin)"
        COMMAND = "command", "Command line"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sso_domains")
    domain = models.CharField(max_length=253, help_text="In IDNA form (xn--…), lower case")
    # Published by the organisation as the TXT record's value; not a secret (anyone can read DNS).
    verification_token = models.CharField(max_length=64, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=8, choices=Method.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "domain"], name="ssodomain_once_per_org"),
            models.UniqueConstraint(fields=["domain"], condition=Q(verified_at__isnull=False), name="ssodomain_verified_once"),
        ]

    def __str__(self) -> str:
        return f"{self.domain} ({'verified' if self.verified_at else 'claimed'}) for {self.organisation}"


class SsoIdentity(models.Model):
    """Who an identity provider's subject is: (organisation, issuer, `sub`) → user. SSO signs in through this
    link, never by e-mail address alone (teams/sso_accounts.py). An empty subject marks an account this
    organisation's SSO made before identities were stored: its first sign-in on a verified domain fills it in."""

    class Origin(models.TextChoices):
        CREATED = "created", "Account made by SSO"
        LINKED = "linked", "Linked by the member"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=200)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities")
    origin = models.CharField(max_length=8, choices=Origin.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "issuer", "subject"], condition=~Q(subject=""),
                                    name="ssoidentity_subject_once"),
            models.UniqueConstraint(fields=["organisation", "issuer", "user"], name="ssoidentity_user_once"),
        ]
        verbose_name_plural = "SSO identities"

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer} → {self.user}"
