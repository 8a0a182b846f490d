"""Writes: the starting credits, granted once per confirmed owner, never per channel.

They go to the owner's oldest channel, when the owner is confirmed and has a channel:
called when an e-mail is confirmed and when a channel is created, whichever comes last
grants. The owner's row is locked first (so grants and channel creations of one owner
take turns) and StartingCreditGrant.owner is unique, so a race cannot grant twice.

The grant record is an account's (accounts.models.StartingCreditGrant); the credits are a channel's, so
the rule lives here, above accounts: channel_create calls it, and a confirmation reaches it through
accounts' `email_confirmed` signal (connected in channels_app/apps.py).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import StartingCreditGrant
from accounts.selectors import owner_is_confirmed
from channels_app.models import Channel


def lock_owner(owner) -> None:
    """Take the owner's row lock until the transaction ends (PostgreSQL; SQLite serialises writers anyway)."""
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()


@transaction.atomic
def starting_credits_grant(*, owner) -> StartingCreditGrant | None:
    """Grant NEW_OWNER_CREDITS to the owner's oldest channel unless granted already; None if nothing was granted."""
    lock_owner(owner)
    if not owner_is_confirmed(owner) or StartingCreditGrant.objects.filter(owner_id=owner.pk).exists():
        return None
    channel = Channel.objects.filter(owner_id=owner.pk).order_by("created_at", "pk").first()
    if channel is None:
        return None
    amount = settings.NEW_OWNER_CREDITS
    try:
        with transaction.atomic():
            grant = StartingCreditGrant.objects.create(owner=owner, channel=channel, amount=amount)
    except IntegrityError:  # another transaction granted first
        return None
    if amount:
        Channel.objects.filter(pk=channel.pk).update(credits=F("credits") + amount)
    return grant


def on_email_confirmed(sender, *, user, **kwargs) -> None:
    """The receiver of accounts.signals.email_confirmed."""
    starting_credits_grant(owner=user)
