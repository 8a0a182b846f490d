"""Owner-account state beyond Django's user: e-mail confirmation and the one starting-credit grant."""

from django.conf import settings
from django.db import models


class EmailConfirmation(models.Model):
    """A self-service sign-up's e-mail check (docs/security.md, "Sign-up and credits").

    Only owners created through /accounts/signup/ have a row. No row means the
    account was made by staff, the CLI or before this existed: it counts as confirmed.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="email_confirmation"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({'confirmed' if self.confirmed_at else 'pending'})"


class StartingCreditGrant(models.Model):
    """The starting credits an owner got, at most once: `owner` is unique, so two
    concurrent confirmations or channel creations cannot both grant."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="starting_credit_grant"
    )
    # The channel that received them; kept (null) if that channel is deleted, so no second grant.
    channel = models.ForeignKey("channels_app.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    amount = models.PositiveIntegerField()
    granted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.amount} credits for {self.owner}"
