"""Changes to the model catalog: providers and their keys, retiring models, and models a provider says are gone.

The admin (channels_app/admin_catalog.py) and `manage.py providers` / `manage.py
models` call these; nothing else writes the catalog tables.
"""

import logging
from datetime import date, timedelta

from django.core.mail import mail_admins
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from channels_app import events, key_cache
from channels_app.catalog_models import AiModel, OwnerNotice, Provider
from channels_app.catalog_notices import retirement_text
from channels_app.models import Channel
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


class CannotRetire(Exception):
    pass


@transaction.atomic
def model_retire(*, model: AiModel, replacement: AiModel | None = None) -> list[Channel]:
    """Retire `model`: its channels move to the replacement (as model or fallback), each owner gets a notice and an e-mail.

    Returns the channels that moved. A channel whose fallback would equal its
    new model loses the fallback instead.
    """
    model = AiModel.objects.select_for_update().get(pk=model.pk)
    replacement = replacement or model.replacement
    if replacement is None or replacement.pk == model.pk or replacement.status == AiModel.Status.RETIRED:
        raise CannotRetire(f"{model.slug} needs an active replacement before it can be retired")
    model.status, model.replacement = AiModel.Status.RETIRED, replacement
    model.save(update_fields=["status", "replacement", "updated_at"])
    moved = []
    for channel in Channel.objects.select_for_update().select_related("owner").filter(
        Q(model=model.slug) | Q(fallback_model=model.slug)
    ):
        was = (channel.model, channel.fallback_model)
        if channel.model == model.slug:
            channel.model = replacement.slug
        if channel.fallback_model == model.slug:
            channel.fallback_model = replacement.slug
        if channel.fallback_model == channel.model:
            channel.fallback_model = ""
        channel.max_reply_tokens = min(channel.max_reply_tokens, replacement.max_output)
        channel.save(update_fields=["model", "fallback_model", "max_reply_tokens", "updated_at"])
        moved.append(channel)
        role = "model" if was[0] == model.slug else "fallback model"
        _tell_owner(
            channel,
            retirement_text(
                model_name=model.name, model_slug=model.slug, channel_name=channel.name,
                replacement_name=replacement.name, replacement_slug=replacement.slug, role=role,
            ),
            {"model": model.slug, "replacement": replacement.slug, "as": role},
        )
    key_cache.invalidate()
    logger.info("Model %s retired; %s channel(s) moved to %s", model.slug, len(moved), replacement.slug)
    return moved


def models_retire_due(*, today: date | None = None) -> dict[str, int]:
    """Retire every deprecated model whose day has come (run daily: `manage.py models retire-due`)."""
    today = today or timezone.now().date()
    done = {}
    for model in AiModel.objects.filter(status=AiModel.Status.DEPRECATED, retires_on__lte=today):
        done[model.slug] = len(model_retire(model=model))
    return done


def _tell_owner(channel: Channel, text: str, data: dict) -> None:
    """A dashboard notice for each person who runs the channel (its creator, its organisation's owners and admins),
    and the "model.retired" event: e-mail and, when set, the signed webhook (channels_app/events.py)."""
    from teams.models import Membership
    from teams.roles import Role

    people = set(
        Membership.objects.filter(organisation_id=channel.organisation_id, role__in=(Role.OWNER, Role.ADMIN))
        .values_list("user_id", flat=True)
    ) | {channel.owner_id}
    OwnerNotice.objects.bulk_create([OwnerNotice(owner_id=user_id, channel=channel, text=text) for user_id in people])
    events.emit(channel, "model.retired", data)


def notice_dismiss(*, owner, notice_id: int) -> bool:
    return bool(
        OwnerNotice.objects.filter(pk=notice_id, owner=owner, dismissed_at__isnull=True).update(dismissed_at=timezone.now())
    )


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
