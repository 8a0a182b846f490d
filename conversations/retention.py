"""Per-channel retention: conversations older than the channel's `retention_days` are deleted.

A thread is old once its last message (or its start, if it has none) is older
than the channel's retention; its messages and feedback go with it. Failed-request
rows and refused origins follow the same age; Idempotency-Key answers go once they
can no longer be replayed. Run by `manage.py purge_expired_data` (cron) and as the
background job "retention.purge" (alerts/jobs.py) every RETENTION_PURGE_INTERVAL_SECONDS:
Celery beat schedules it, or the in-process job runner (gateway/infra/jobs).
Each purge that deleted anything leaves one audit event per channel, with counts only.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from channels_app.models import Channel, RefusedOrigin
from conversations.idempotency import TTL as IDEMPOTENCY_TTL
from conversations.models import AuditEvent, FailedRequest, IdempotencyKey, Message, Session

def channel_purge(*, channel: Channel, now: datetime) -> dict[str, int]:
    """Delete what `channel` keeps beyond its retention; returns the counts (and audits them when non-zero)."""
    cutoff = now - timedelta(days=channel.retention_days)
    with transaction.atomic():
        old = (
            Session.objects.filter(channel=channel, started_at__lt=cutoff)
            .annotate(last=Coalesce(Max("messages__created_at"), "started_at"))
            .filter(last__lt=cutoff)
            .values_list("id", flat=True)
        )
        old_ids = list(old)
        counts = {
            "threads": len(old_ids),
            "messages": Message.objects.filter(session_id__in=old_ids).count(),
        }
        Session.objects.filter(id__in=old_ids).delete()
        counts["failed_requests"] = FailedRequest.objects.filter(channel=channel, created_at__lt=cutoff).delete()[0]
        counts["refused_origins"] = RefusedOrigin.objects.filter(channel=channel, last_seen__lt=cutoff).delete()[0]
        # Past its TTL an answer is never replayed again (retention is at least one day, longer than that).
        counts["idempotency_answers"] = IdempotencyKey.objects.filter(
            channel=channel, created_at__lt=now - IDEMPOTENCY_TTL
        ).delete()[0]
        if any(counts.values()):
            AuditEvent.objects.create(
                channel=channel, action=AuditEvent.Action.RETENTION_PURGE, via=AuditEvent.Via.SCHEDULE,
                counts=counts, created_at=now,
            )
    return counts


def purge_all(*, now: datetime | None = None) -> dict[str, int]:
    """Purge every channel; returns the totals."""
    now = now or timezone.now()
    totals: dict[str, int] = {}
    for channel in Channel.objects.only("id", "public_id", "retention_days").iterator():
        for name, n in channel_purge(channel=channel, now=now).items():
            totals[name] = totals.get(name, 0) + n
    return totals
