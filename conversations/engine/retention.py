"""Per-channel retention: conversations older than the channel's `retention_days` are deleted.

A thread is old once its last message (or its start, if it has none) is older
than the channel's retention; its messages and feedback go with it. Failed-request
rows, the activity log and refused origins follow the same age; Idempotency-Key answers go once they
can no longer be replayed. Run by `manage.py purge_expired_data` (cron) and as the
background job "retention.purge" (alerts/jobs.py) every RETENTION_PURGE_INTERVAL_SECONDS:
Celery beat schedules it, or the in-process job runner (gateway/infra/jobs).
Each purge that deleted anything leaves one audit event per channel, with counts only.

Deletes go in batches of PURGE_BATCH rows, each its own transaction: a purge of millions of rows
is many short transactions, never one long one; if it stops half-way the next round deletes the rest,
and the audit event records what this round deleted. The usage roll-ups are not touched: usage and cost
stay counted after the conversations are gone.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from channels_app.models import Channel, RefusedOrigin
from conversations.engine.idempotency import TTL as IDEMPOTENCY_TTL
from conversations.models import Activity, AuditEvent, FailedRequest, Feedback, IdempotencyKey, Message, Session
from knowledge import services as knowledge_services
from teams import audit

# Rows deleted per transaction: each batch is bounded work (its own short transaction and locks), so purging a
# busy channel's day of millions of messages never holds one transaction open for minutes (docs/operations.md).
PURGE_BATCH = 1000


def channel_purge(*, channel: Channel, now: datetime, batch: int | None = None) -> dict[str, int]:
    """Delete what `channel` keeps beyond its retention, in batches; returns the counts (and audits them when non-zero).

    A thread is old when it started before the cutoff and has no message since: found through the
    (channel, started_at) index, newest messages checked per thread (NOT EXISTS), never aggregated.
    """
    batch = batch or PURGE_BATCH
    cutoff = now - timedelta(days=channel.retention_days)
    recent = Message.objects.filter(session=OuterRef("pk"), created_at__gte=cutoff)
    old_threads = Session.objects.filter(channel=channel, started_at__lt=cutoff).exclude(Exists(recent))
    counts = {"threads": 0, "messages": 0}
    while ids := list(old_threads.order_by("started_at").values_list("id", flat=True)[:batch]):
        with transaction.atomic():
            counts["messages"] += Message.objects.filter(session_id__in=ids).count()
            counts["threads"] += len(ids)
            # Feedback, then messages, then threads: each a plain DELETE … WHERE … IN (ids).
            Feedback.objects.filter(message__session_id__in=ids).delete()
            Message.objects.filter(session_id__in=ids).delete()
            Session.objects.filter(id__in=ids).delete()
    counts["failed_requests"] = _delete_in_batches(FailedRequest.objects.filter(channel=channel, created_at__lt=cutoff), batch)
    # The activity log: through its (channel, created_at) index, oldest first.
    counts["activity"] = _delete_in_batches(
        Activity.objects.filter(channel=channel, created_at__lt=cutoff).order_by("created_at", "id"), batch
    )
    counts["refused_origins"] = _delete_in_batches(RefusedOrigin.objects.filter(channel=channel, last_seen__lt=cutoff), batch)
    # The records of which knowledge each reply was given hold the visitors' questions: the same age as messages.
    knowledge_services.answers_purge(channel=channel, before=cutoff, batch=batch)
    # Past its TTL an answer is never replayed again (retention is at least one day, longer than that).
    counts["idempotency_answers"] = _delete_in_batches(
        IdempotencyKey.objects.filter(channel=channel, created_at__lt=now - IDEMPOTENCY_TTL), batch
    )
    if any(counts.values()):
        AuditEvent.objects.create(
            channel=channel, action=AuditEvent.Action.RETENTION_PURGE, via=AuditEvent.Via.SCHEDULE,
            counts=counts, created_at=now,
        )
    return counts


def _delete_in_batches(rows, batch: int) -> int:
    deleted = 0
    while ids := list(rows.values_list("id", flat=True)[:batch]):
        with transaction.atomic():
            deleted += rows.model.objects.filter(id__in=ids).delete()[0]
    return deleted


def purge_all(*, now: datetime | None = None) -> dict[str, int]:
    """Purge every channel; returns the totals."""
    now = now or timezone.now()
    totals: dict[str, int] = {}
    for channel in Channel.objects.only("id", "public_id", "retention_days").iterator():
        for name, n in channel_purge(channel=channel, now=now).items():
            totals[name] = totals.get(name, 0) + n
    # Organisations' audit logs have their own retention (teams/audit.py), purged on the same schedule.
    totals["audit_entries"] = audit.purge(now=now)
    return totals
