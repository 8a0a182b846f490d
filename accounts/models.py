"""Owner accounts beyond Django's user: login sessions stored by digest (accounts/session_store.py),
e-mail confirmation and the one starting-credit grant."""

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class HashedSession(AbstractBaseSession):
    """A session row whose primary key is the SHA-256 of the session key, never the key itself.

    The cookie holds the key; the database only its digest, so a dump or a backup holds no
    value that opens a session.
    """

    # AbstractBaseSession's 40 characters fit a key, not a 64-character hex digest.
    session_key = models.CharField("session key digest", max_length=64, primary_key=True)

    @classmethod
    def get_session_store_class(cls):
        # The engine settings name (accounts/session_store.py), looked up rather than imported: the store
        # imports this model, and the model layer does not import back up.
        return import_module(settings.SESSION_ENGINE).SessionStore

    class Meta(AbstractBaseSession.Meta):
        db_table = "accounts_hashed_session"



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
