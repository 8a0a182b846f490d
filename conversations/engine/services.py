"""The API's other services (the chat itself is conversations/engine/pipeline.py): history, the widget's endpoints,
and the record of refused requests. Each takes the key verified at the edge (channels_app/credentials.py)."""

from django.db import transaction
from django.utils import timezone

from channels_app.credentials import VerifiedKey
from channels_app.models import Channel
from conversations.engine import activity, admission, erasure, proof_of_work, rollups, selectors, widget_sessions
from conversations.engine.activity import Facts
from conversations.models import AuditEvent, FailedRequest, Session
from gateway.infra.db import db_phase, in_db_phase
from gateway.infra.errors import InvalidInput


class WidgetSourceOnly(InvalidInput):
    message = "A publishable key can only read widget sessions"


async def history_get(*, key: VerifiedKey, session_id: str, source: str | None = None) -> list[dict]:
    """The current thread's messages in the key's own namespace.

    A secret key may also read a widget session, explicitly (`source="widget"`),
    read-only: it can never chat into one. A publishable key reads widget sessions only.
    """
    if key.publishable and source not in (None, Session.Source.WIDGET):
        raise WidgetSourceOnly()
    key = (await admission.admit(key, "history", session_id)).key
    messages = await in_db_phase(
        selectors.thread_messages, channel=key.channel, source=source or key.source, session_id=session_id, now=timezone.now()
    )
    return [m.to_dict() for m in messages]


async def history_erase(*, key: VerifiedKey, session_id: str, source: str | None = None) -> dict:
    """DELETE /api/history: every copy of the session in the key's channel, erased; the counts of what went."""
    key = (await admission.admit(key, "erase")).key  # counts nothing; refuses a key changed since it was read
    return await in_db_phase(
        erasure.session_erase, channel=key.channel, session_id=session_id, source=source or Session.Source.API,
        via=AuditEvent.Via.API,
    )


async def widget_config_get(*, key: VerifiedKey) -> dict:
    """The channel's widget settings, for its publishable key from an allowed origin."""
    return (await _widget_admit(key, "widget-config")).channel.widget_settings()


async def widget_challenge_get(*, key: VerifiedKey) -> dict:
    """GET /api/widget-challenge: a proof-of-work challenge for the publishable key's channel."""
    return proof_of_work.challenge_create((await _widget_admit(key, "widget-challenge")).channel)


async def widget_session_issue(*, key: VerifiedKey) -> str:
    """A new widget session id (conversations/engine/widget_sessions.py). Stores nothing; counted per client
    address per minute (the channel's `visitor_rate_limit_per_minute`), so one address cannot mint ids in bulk."""
    return widget_sessions.issue((await _widget_admit(key, "widget-session")).channel.public_id)


async def _widget_admit(key: VerifiedKey, endpoint: str) -> VerifiedKey:
    # Publishable keys only: the edge refused any other (gateway/infra/endpoints.py).
    return (await admission.admit(key, endpoint)).key


@db_phase
def failed_request_record(
    *, channel: Channel, endpoint: str, status: int, error: str, key_id: int | None = None, key_name: str = "",
    source: str = Session.Source.API, session_id: str = "", model: str = "", latency_ms: int | None = None,
) -> None:
    """Record a refused or failed request for its channel's owner: the dashboard's failed requests, the usage
    roll-up and the activity log (naming the secret key `key_id`, when one was presented), in one transaction.
    The one writer of refusals: the API views' after-answer step and a stream that failed after it opened."""
    with transaction.atomic():
        failed = FailedRequest.objects.create(
            channel=channel, endpoint=endpoint, status=status, error=error[: FailedRequest.ERROR_MAX]
        )
        rollups.add_failure(channel_id=channel.pk, at=failed.created_at, status=status)
        facts = Facts(organisation_id=channel.organisation_id, endpoint=endpoint, key_id=key_id, key_name=key_name)
        activity.refusal_add(
            facts=facts, channel_id=channel.pk, source=source, at=failed.created_at, status=status, error=error,
            session_id=session_id, model=model, latency=latency_ms,
        )


@db_phase
def answered_request_record(
    *, channel: Channel, endpoint: str, status: int, error: str = "", key_id: int | None = None, key_name: str = "",
    source: str = Session.Source.API, session_id: str = "", model: str = "", latency_ms: int | None = None,
) -> None:
    """Record an answered request the chat store does not (a session's history, feedback, the widget's set-up
    calls, the model list, a replayed Idempotency-Key's answer) in the activity log; `error` is its note."""
    facts = Facts(organisation_id=channel.organisation_id, endpoint=endpoint, key_id=key_id, key_name=key_name)
    activity.answered_read_add(
        facts=facts, channel_id=channel.pk, source=source, at=timezone.now(), status=status, session_id=session_id,
        latency=latency_ms, model=model, note=error,
    )
