"""`Idempotency-Key` on POST /api/chat: a retried request gets the first answer, not a second charge.

The key is claimed (a row without a response) before the chat runs; the answer
is stored in the same transaction as the chat's messages and credit, so a
stored answer and a charge always go together. A failed chat gives the key up,
so the client may retry it; so does a stream its client cut off (its partial
reply is stored and charged, but is never the key's answer: conversations/edge/streaming.py).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels_app.credentials import VerifiedKey
from conversations.models import IdempotencyKey
from gateway.infra import header_values
from gateway.infra.db import db_phase
from gateway.infra.errors import ApiError

TTL = timedelta(hours=24)
KEY_MAX = 255


class IdempotencyConflict(ApiError):
    status = 409


@dataclass(frozen=True)
class Outcome:
    claim_id: int | None = None
    replay: dict | None = None


def fingerprint(fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def is_valid_key(key: str) -> bool:
    return header_values.is_token(key, KEY_MAX)


@db_phase
def begin(*, api_key: VerifiedKey, key: str, fingerprint: str) -> Outcome:
    """Replay the stored answer, claim the key for this request, or refuse with 409."""
    # Per channel and key kind: a publishable key's keys never meet a secret key's.
    scope = {"channel_id": api_key.channel.pk, "source": api_key.source}
    now = timezone.now()
    # A claim older than any chat can run belongs to a process that died mid-chat.
    stale = now - timedelta(seconds=settings.LLM_TOTAL_TIMEOUT + 60)
    IdempotencyKey.objects.filter(**scope, key=key, created_at__lt=now - TTL).delete()
    IdempotencyKey.objects.filter(**scope, key=key, response__isnull=True, created_at__lt=stale).delete()
    try:
        with transaction.atomic():
            claim = IdempotencyKey.objects.create(**scope, key=key, fingerprint=fingerprint, created_at=now)
        return Outcome(claim_id=claim.pk)
    except IntegrityError:
        pass
    existing = IdempotencyKey.objects.filter(**scope, key=key).first()
    if existing is None:  # given up between our insert and this read: the client may retry
        raise IdempotencyConflict("A request with this Idempotency-Key is still in progress")
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request")
    if existing.response is None:
        raise IdempotencyConflict("A request with this Idempotency-Key is still in progress")
    return Outcome(replay=existing.response)


def complete(claim_id: int, response: dict) -> None:
    """Store the answer. Call inside the chat's own transaction."""
    IdempotencyKey.objects.filter(pk=claim_id).update(response=response)


@db_phase
def abandon(claim_id: int) -> None:
    """Give the key up after a failed chat; an answered key stays."""
    IdempotencyKey.objects.filter(pk=claim_id, response__isnull=True).delete()
