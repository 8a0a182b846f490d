"""The background jobs (gateway/infra/jobs), each a thin call into its service."""

from alerts import services, thresholds
from gateway.infra.jobs import job


@job("alerts.email")
def send_event_email(*, event_id: int) -> None:
    services.event_send_email(event_id=event_id)


def _give_up(*, delivery_id: int) -> None:
    services.webhook_give_up(delivery_id=delivery_id)


@job("alerts.webhook", max_retries="WEBHOOK_MAX_RETRIES", on_dead=_give_up)
def deliver_webhook(*, delivery_id: int) -> None:
    services.webhook_deliver(delivery_id=delivery_id)


@job("alerts.check_thresholds", every="ALERT_CHECK_INTERVAL_SECONDS")
def check_thresholds() -> None:
    thresholds.check_all()


@job("retention.purge", every="RETENTION_PURGE_INTERVAL_SECONDS")
def purge_expired_data() -> None:
    from conversations.engine.retention import purge_all

    purge_all()


@job("models.retire_due", every="MODEL_RETIREMENT_INTERVAL_SECONDS")
def retire_due_models() -> None:
    """Deprecated models whose day has come are retired, their channels moved (docs/providers.md)."""
    from channels_app.model_retirement import models_retire_due

    models_retire_due()


@job("models.sync", every="MODEL_SYNC_INTERVAL_SECONDS")
def sync_models() -> None:
    """Each provider's GET /models against the catalog: what it dropped is flagged for staff (docs/providers.md)."""
    from channels_app.providers.catalog_sync import models_sync

    models_sync()
