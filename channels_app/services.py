"""Writes to channels, keys and credits."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels_app import catalog, keys
from channels_app.models import ApiKey, Channel


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str  # shown once to the owner, never stored or logged


def api_key_issue(*, channel: Channel) -> IssuedKey:
    raw = keys.generate()
    api_key = ApiKey.objects.create(
        channel=channel,
        ciphertext=keys.encrypt(raw, channel.public_id),
        digest=keys.digest(raw),
        hint=keys.hint(raw),
    )
    return IssuedKey(api_key=api_key, plaintext=raw)


def api_key_revoke(*, api_key: ApiKey, at=None) -> None:
    """Stop the key working at `at` (now by default; a later time is a grace period)."""
    api_key.revoked_at = at or timezone.now()
    api_key.save(update_fields=["revoked_at"])


def owner_get_or_create(*, email: str):
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("id").first()
    if user is None:
        user = User.objects.create_user(username=email.lower(), email=email.lower())
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def channel_create(
    *,
    owner,
    name: str,
    model: str = catalog.DEFAULT_MODEL_ID,
    system_prompt: str = "",
    credits: int | None = None,
    rate_limit_per_minute: int = 60,
    daily_limit: int = 1000,
    is_active: bool = True,
) -> tuple[Channel, IssuedKey]:
    """Create a channel and issue its first key."""
    catalog.get_model(model)
    channel = Channel(
        owner=owner,
        name=name,
        model=model,
        system_prompt=system_prompt,
        rate_limit_per_minute=rate_limit_per_minute,
        daily_limit=daily_limit,
        is_active=is_active,
    )
    if credits is not None:
        channel.credits = credits
    channel.full_clean()
    channel.save()
    return channel, api_key_issue(channel=channel)


def credit_hold(*, channel_id: int) -> bool:
    """Take one credit for a chat about to go upstream; False when none is left.

    One conditional UPDATE, so concurrent chats can never overspend.
    """
    return Channel.objects.filter(pk=channel_id, credits__gt=0).update(credits=F("credits") - 1) == 1


def credit_release(*, channel_id: int) -> None:
    """Give back a held credit: the chat it was held for failed."""
    Channel.objects.filter(pk=channel_id).update(credits=F("credits") + 1)


def credits_add(*, channel: Channel, amount: int) -> None:
    if amount <= 0:
        raise ValueError("amount must be positive")
    Channel.objects.filter(pk=channel.pk).update(credits=F("credits") + amount)
