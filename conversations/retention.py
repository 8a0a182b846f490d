"""Per-channel retention: conversations older than the channel's `retention_days` are deleted.

A thread is old once its last message (or its start, if it has none) is older
than the channel's retention; its messages and feedback go with it. Failed-request
rows and refused origins follow the same age; Idempotency-Key answers go once they
can no longer be replayed. Run by `manage.py purge_expired_data` (cron) and, in the
server, by `start_periodic_purge` every RETENTION_PURGE_INTERVAL_SECONDS.
Each purge that deleted anything leaves one audit event per channel, with counts only.
"""

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from channels_app.models import Channel, RefusedOrigin
from conversations.idempotency import TTL as IDEMPOTENCY_TTL
from conversations.models import AuditEvent, FailedRequest, IdempotencyKey, Message, Session
from teams import audit

logger = logging.getLogger(__name__)


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
    # Organisations' audit logs have their own retention (teams/audit.py), purged on the same schedule.
    totals["audit_entries"] = audit.purge(now=now)
    return totals


_runner: threading.Thread | None = None
_stop = threading.Event()
_runner_lock = threading.Lock()


def start_periodic_purge(interval: float | None = None) -> threading.Thread | None:
    """Run purge_all every `interval` seconds (RETENTION_PURGE_INTERVAL_SECONDS) on a daemon thread; once per process.

    A stand-in for a task queue: with several workers each purges, which is
    harmless (deletes of what is already gone delete nothing).
    """
    global _runner
    interval = settings.RETENTION_PURGE_INTERVAL_SECONDS if interval is None else interval
    if interval <= 0:
        return None
    with _runner_lock:
        if _runner is None or not _runner.is_alive():
            _stop.clear()
            _runner = threading.Thread(target=_run_forever, args=(interval,), name="retention-purge", daemon=True)
            _runner.start()
        return _runner


def stop_periodic_purge(timeout: float = 10) -> None:
    """Stop the runner (tests; a process that exits needs nothing: the thread is a daemon)."""
    _stop.set()
    if _runner is not None:
        _runner.join(timeout)


def _run_forever(interval: float) -> None:
    while not _stop.wait(interval):
        try:
            totals = purge_all()
            if any(totals.values()):
                logger.info("Retention purge deleted %s", totals)
        except Exception:  # the next round tries again
            logger.exception("Retention purge failed")
        finally:
            connection.close()  # hand this thread's connection back (PostgreSQL's pool) between rounds
