"""Changes to the model catalog: providers and their keys, and models a provider says are gone.

The admin (channels_app/admin_catalog.py), `manage.py providers` / `manage.py models` and the chat (a model the
provider says is gone) call these. Retiring a model moves channels, so it lives with the channels
(channels_app/model_retirement.py).
"""

import logging
from datetime import timedelta

from django.core.mail import mail_admins
from django.utils import timezone

from channels_app.providers.catalog_models import AiModel, Provider
from gateway.infra.db import in_db_phase

logger = logging.getLogger(__name__)

# A model flagged as gone is flagged (and staff mailed) again at most this often.
ATTENTION_REPEAT_SECONDS = 3600


def provider_create(*, name: str, base_url: str, api_key: str = "", enabled: bool = True, **timeouts) -> Provider:
    provider = Provider(name=name, base_url=base_url, enabled=enabled, **timeouts)
    provider.set_key(api_key)
    provider.full_clean()
    provider.save()
    return provider


def provider_set_key(*, provider: Provider, api_key: str) -> Provider:
    """Rotate (or with "" remove) a provider's key. The old one is gone; the new one is never shown again."""
    provider.set_key(api_key)
    provider.save(update_fields=["key_ciphertext", "key_hint", "key_set_at", "updated_at"])
    return provider


def model_mark_gone(model_id: str, reason: str) -> bool:
    """Flag a model the provider says does not exist (any more) for staff; False when it was flagged recently."""
    now = timezone.now()
    recent = now - timedelta(seconds=ATTENTION_REPEAT_SECONDS)
    flagged = (
        AiModel.objects.filter(slug=model_id)
        .exclude(attention_at__gte=recent)
        .update(attention=reason[:1000], attention_at=now)
    )
    if flagged:
        logger.error("The provider says model %s is gone: %s", model_id, reason)
        try:
            mail_admins(
                f"Model {model_id} needs attention",
                f"The provider answered that {model_id} does not exist (any more):\n\n{reason}\n\n"
                "Retire it with a replacement in the admin (AI models) so its channels move.",
            )
        except Exception:
            logger.exception("Could not e-mail the admins about model %s", model_id)
    return bool(flagged)


async def model_gone(model_id: str, reason: str) -> None:
    """model_mark_gone from a chat (the event loop): one database phase."""
    try:
        await in_db_phase(model_mark_gone, model_id, reason)
    except Exception:  # flagging is a side effect: never turn it into the chat's failure
        logger.exception("Could not flag model %s", model_id)
