"""Erasure of one session on request: every copy of it goes, and an audit event says so without the content.

A session's text lives in its threads' messages (and their feedback), in the
Idempotency-Key answers that replay its replies, and possibly in failed-request
rows whose error quotes it. All are deleted in one transaction, and the activity log's rows of the session
lose its id; the audit event
keeps only a keyed digest of the session_id and the counts (docs/dashboard.md#erasure).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from channels_app.models import Channel
from conversations.models import Activity, AuditEvent, FailedRequest, Feedback, IdempotencyKey, Message, Session
from knowledge import services as knowledge_services

_DIGEST_SALT = "conversations.engine.erasure.subject"
QUOTED_ID_MIN = 8


def subject_digest(*, channel: Channel, session_id: str) -> str:
    """A keyed digest of `session_id` in `channel`: the audit log's subject, never the id itself."""
    return salted_hmac(_DIGEST_SALT, f"{channel.public_id}:{session_id}", algorithm="sha256").hexdigest()


def session_erase(
    *, channel: Channel, session_id: str, source: str | None, via: str, actor: AbstractBaseUser | None = None
) -> dict[str, int]:
    """Delete every copy of `session_id` in `channel` (one namespace, or both when `source` is None); returns counts."""
    scope = {"source": source} if source else {}
    with transaction.atomic():
        sessions = Session.objects.filter(channel=channel, session_id=session_id, **scope)
        counts = {
            "threads": sessions.count(),
            "messages": Message.objects.filter(session__in=sessions).count(),
            "feedback": Feedback.objects.filter(message__session__in=sessions).count(),
        }
        sessions.delete()  # messages and feedback cascade
        counts["idempotency_answers"] = IdempotencyKey.objects.filter(
            channel=channel, response__session_id=session_id, **scope
        ).delete()[0]
        # Error strings quote no session_id today; any row that ever does goes too. A very short id would match
        # unrelated errors ("1" is in "…65536 bytes"), so those are left: nothing can have quoted them either.
        quoting = FailedRequest.objects.filter(channel=channel, error__contains=session_id)
        counts["failed_requests"] = quoting.delete()[0] if len(session_id) >= QUOTED_ID_MIN else 0
        # Its requests stay in the activity log (status, tokens, cost: the owner's bookkeeping), without the session id.
        Activity.objects.filter(channel=channel, session_id=session_id, **scope).update(session_id="")
        # Which knowledge sources its replies were given, with their questions: part of the messages, not counted apart.
        knowledge_services.answers_erase(channel=channel, session_id=session_id)
        AuditEvent.objects.create(
            channel=channel,
            action=AuditEvent.Action.SESSION_ERASED,
            via=via,
            actor=actor,
            subject=subject_digest(channel=channel, session_id=session_id),
            counts=counts,
            created_at=timezone.now(),
        )
    return counts
