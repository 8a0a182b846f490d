"""Retiring a model: its channels move to the replacement, and the people who run each channel are told.

Called by the staff admin (channels_app/admin_catalog.py), `manage.py models retire` / `retire-due` and the daily
job; it writes channels, so it lives with them, above the catalog (channels_app/providers/).
"""

import logging
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from channels_app import events, key_cache
from channels_app.models import Channel
from channels_app.providers.catalog_models import AiModel, OwnerNotice
from channels_app.providers.catalog_notices import retirement_text

logger = logging.getLogger(__name__)


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
