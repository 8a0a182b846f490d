"""The knowledge jobs (gateway/infra/jobs): ingesting one source, and the periodic refresh of all."""

from gateway.infra.jobs import job


@job("knowledge.ingest", max_retries=0)
def ingest(*, source_id: int) -> None:
    from knowledge import ingestion

    ingestion.ingest(source_id)


@job("knowledge.refresh_all", every="KNOWLEDGE_REFRESH_INTERVAL_SECONDS")
def refresh_all() -> None:
    from knowledge import services

    services.refresh_all()
