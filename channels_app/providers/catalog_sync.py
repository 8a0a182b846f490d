"""The catalog checked against each provider's own list (the OpenAI-compatible GET /models), so a retirement is seen
before a visitor's chat meets it.

For every enabled provider: a catalog model (active or deprecated) whose
provider id the list no longer holds is flagged for staff (its `attention`,
and an e-mail to ADMINS: catalog_services.model_mark_gone); staff retire it
with a replacement in the admin, which moves its channels and tells their
owners. The provider's models that no catalog model uses are kept on the
provider (`models_missing`) for staff to add with one click. A provider that
cannot list its models (no such endpoint, an error, not a list) is reported
on the provider and in the result, and nothing is flagged: an unreadable list
is not an empty one.

Run by `manage.py models sync`, the providers' admin action and the periodic
job "models.sync" (alerts/jobs.py, MODEL_SYNC_INTERVAL_SECONDS).
"""

import logging
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from channels_app.providers import catalog_services
from channels_app.providers.catalog import scrub
from channels_app.providers.catalog_models import AiModel, Provider
from gateway.infra.sealing import UndecryptableKey

logger = logging.getLogger(__name__)


class ListingError(Exception):
    """The provider's model list could not be read."""


class CannotAdd(Exception):
    pass


@dataclass
class SyncResult:
    provider: str
    error: str = ""  # why its list could not be read ("" when it was)
    skipped: str = ""  # why it was not asked (disabled, the offline demo)
    listed: int = 0
    gone: list[str] = field(default_factory=list)  # catalog models it no longer lists
    missing: list[str] = field(default_factory=list)  # ids it lists that no catalog model uses


def listing(provider: Provider) -> list[dict]:
    """The provider's GET /models `data`: dicts with a string `id`. ListingError when it is not that."""
    base = (settings.LLM_BASE_URL if provider.from_environment else provider.base_url).rstrip("/")
    try:
        key = provider.api_key()
    except UndecryptableKey:
        raise ListingError("its key does not decrypt with the configured KEY_ENCRYPTION_KEY") from None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    timeout = httpx.Timeout(
        provider.read_timeout or settings.LLM_READ_TIMEOUT, connect=provider.connect_timeout or settings.LLM_CONNECT_TIMEOUT
    )
    try:
        response = httpx.get(f"{base}/models", headers=headers, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise ListingError(scrub(f"GET /models failed: {type(exc).__name__}: {exc}", key)[:500]) from None
    if response.status_code != 200:
        raise ListingError(scrub(f"GET /models answered HTTP {response.status_code}: {response.text[:200]}", key)[:500])
    try:
        data = response.json()["data"]
    except (ValueError, KeyError, TypeError):
        data = None
    if not isinstance(data, list):
        raise ListingError("GET /models did not answer an OpenAI-compatible model list ({\"data\": [...]})")
    return [entry for entry in data if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]]


def provider_sync(provider: Provider) -> SyncResult:
    result = SyncResult(provider.name)
    if not provider.enabled:
        result.skipped = "disabled"
        return result
    if provider.from_environment and not settings.LLM_API_KEY:
        result.skipped = "no LLM_API_KEY: the offline demo answers its models"
        return result
    now = timezone.now()
    try:
        entries = listing(provider)
    except ListingError as exc:
        result.error = str(exc)
        logger.warning("Could not read the model list of provider %s: %s", provider.name, exc)
        Provider.objects.filter(pk=provider.pk).update(models_check_error=result.error, models_checked_at=now)
        return result
    listed = {entry["id"] for entry in entries}
    result.listed = len(listed)
    models = list(AiModel.objects.filter(provider=provider))
    for model in models:
        served_as = model.upstream_id or model.slug
        if model.status != AiModel.Status.RETIRED and served_as not in listed:
            result.gone.append(model.slug)
            catalog_services.model_mark_gone(
                model.slug, f"{provider.name}'s GET /models no longer lists {served_as} (checked {now:%Y-%m-%d %H:%M} UTC)"
            )
    used = {model.upstream_id or model.slug for model in models}
    missing = [_offer(entry) for entry in entries if entry["id"] not in used]
    result.missing = [entry["id"] for entry in missing]
    Provider.objects.filter(pk=provider.pk).update(models_missing=missing, models_checked_at=now, models_check_error="")
    return result


def _offer(entry: dict) -> dict:
    """What staff see of a model the catalog lacks, and what adding it starts from."""
    def number(name):
        value = entry.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    return {"id": entry["id"][:128], "owned_by": str(entry.get("owned_by") or "")[:64],
            "context_window": number("context_window"), "max_completion_tokens": number("max_completion_tokens")}


def models_sync() -> list[SyncResult]:
    """Every provider checked (the command, the periodic job)."""
    return [provider_sync(provider) for provider in Provider.objects.all()]


@transaction.atomic
def model_add_from_listing(*, provider: Provider, model_id: str) -> AiModel:
    """Add a model the provider listed and the catalog lacks, with the limits the list gave; prices start at 0
    (staff set them: GET /models publishes none in OpenAI's shape)."""
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    offer = next((entry for entry in provider.models_missing if entry.get("id") == model_id), None)
    if offer is None:
        raise CannotAdd(f"{provider.name} did not list {model_id} at its last check")
    if AiModel.objects.filter(slug=model_id).exists():
        raise CannotAdd(f"A model with the id {model_id} is in the catalog already")
    window = max(offer.get("context_window") or 8192, 256)
    model = AiModel(
        slug=model_id, name=model_id[:64], provider=provider, context_window=window,
        max_output=max(min(offer.get("max_completion_tokens") or 4096, window), 16),
    )
    try:
        model.full_clean()
    except ValidationError as exc:
        raise CannotAdd(f"{model_id} cannot be a model id here: {'; '.join(exc.messages)}") from None
    model.save()
    provider.models_missing = [entry for entry in provider.models_missing if entry.get("id") != model_id]
    provider.save(update_fields=["models_missing", "updated_at"])
    return model
