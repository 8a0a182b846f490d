"""Any saved or deleted channel or key invalidates the in-process key cache (channels_app/key_cache.py).

Queryset .update() calls send no signal: the services that use them on cached
fields call key_cache.invalidate() themselves.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from channels_app import key_cache
from channels_app.models import ApiKey, Channel, PublishableKey


@receiver([post_save, post_delete], sender=Channel)
@receiver([post_save, post_delete], sender=ApiKey)
@receiver([post_save, post_delete], sender=PublishableKey)
def _channel_or_key_changed(sender, **kwargs):
    key_cache.invalidate()
