"""Reads of channels and keys."""

from datetime import timedelta

from django.utils import timezone

from channels_app import keys
from channels_app.models import ApiKey, Channel, PublishableKey

LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The usable key matching `raw`, with its channel loaded; None otherwise.

    A malformed key is refused here without a query.
    """
    api_key = api_key_lookup(raw)
    return api_key if api_key is not None and api_key.is_usable() else None


def api_key_lookup(raw: str) -> ApiKey | None:
    """The key matching `raw`, usable or not (the edge refuses a revoked one naming it for its channel's activity
    log), with its channel loaded; its use recorded when it is usable. A malformed key: None, without a query."""
    if not keys.is_well_formed(raw):
        return None
    # During a digest-secret rotation a key may still be stored under a retired secret's digest.
    api_key = ApiKey.objects.select_related("channel").filter(digest__in=keys.lookup_digests(raw)).first()
    if api_key is not None and api_key.is_usable():
        api_key_touch(api_key)
    return api_key


def api_key_touch(api_key: ApiKey) -> None:
    """Record that the key was used; written at most once a minute per key, not on every request."""
    now = timezone.now()
    if api_key_touch_due(api_key, now):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


def api_key_touch_due(api_key: ApiKey, now) -> bool:
    """Whether api_key_touch would write: the key's last recorded use is a minute old or more."""
    return api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION


def publishable_key_authenticate(raw: str) -> PublishableKey | None:
    """The usable publishable key matching `raw`, with its channel loaded; None otherwise."""
    if not keys.is_well_formed_publishable(raw):
        return None
    publishable = PublishableKey.objects.select_related("channel").filter(key=raw).first()
    if publishable is None or not publishable.is_usable():
        return None
    return publishable


def publishable_key_current(*, channel) -> PublishableKey | None:
    """The channel's open publishable key (the one to embed), if it has one."""
    return channel.publishable_keys.filter(revoked_at__isnull=True).first()


def channel_for_policy(public_id) -> Channel | None:
    """The channel a dashboard URL's `public_id` names, with its organisation, for teams.policy's decision; or None."""
    return Channel.objects.select_related("organisation").filter(public_id=public_id).first()
