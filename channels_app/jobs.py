"""The credit jobs (gateway/infra/jobs)."""

from datetime import timedelta

from django.conf import settings

from gateway.infra.jobs import job


@job("credits.give_back_stale_holds", every="CREDIT_HOLD_SWEEP_INTERVAL_SECONDS")
def give_back_stale_holds() -> None:
    """Hold tokens a dead process left behind: their credits given back (channels_app/services.py)."""
    from channels_app.services import credit_holds_give_back_stale

    credit_holds_give_back_stale(older_than=timedelta(seconds=settings.CREDIT_HOLD_STALE_SECONDS))
