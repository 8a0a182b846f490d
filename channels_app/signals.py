"""Any saved or deleted channel, key, provider or model invalidates the in-process key cache (channels_app/key_cache.py).

Queryset .update() calls send no signal: the services that use them on cached
fields call key_cache.invalidate() themselves.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from channels_app import key_cache
from channels_app.models import AiModel, ApiKey, Channel, Provider, PublishableKey
from channels_app.providers import catalog


@receiver([post_save, post_delete], sender=Channel)
@receiver([post_save, post_delete], sender=ApiKey)
@receiver([post_save, post_delete], sender=PublishableKey)
def _channel_or_key_changed(sender, **kwargs):
    key_cache.invalidate()


@receiver([post_save, post_delete], sender=Provider)
@receiver([post_save, post_delete], sender=AiModel)
def _catalog_changed(sender, **kwargs):
    """This process reads the catalog again at once, and after the commit (what it read in between may be old);
    the new key-cache generation makes every other process's chats read it again (channels_app/providers/catalog.py)."""
    catalog.forget()
    transaction.on_commit(catalog.forget)
    key_cache.invalidate()
