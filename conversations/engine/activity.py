"""The activity log's writes: one row per API request of a channel (conversations.models.Activity).

Two writers, one row shape:

- an answered chat: `ANSWERED_INSERT_IF`, a CTE the PostgreSQL store embeds in the statement that stores the
  exchange (conversations/engine/store/postgresql.py), so recording it adds no round trip; the ORM store calls
  `answered_add` in the transaction that stores it;
- a refused or failed request: `refusal_add`, called only by services.failed_request_record (once the
  answer is built, before it is sent, in the transaction that counts the failure), which every refusal and failure goes through;
- any other answered request (history, feedback, the widget's set-up calls, the model list, a replayed
  Idempotency-Key's answer): `answered_read_add`, by services.answered_request_record, once the answer is built.

What a request is recorded with (`Facts`) comes from the key verified at the edge: its id and name, never
the key. The time is the answer's.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from conversations.models import Activity

ERROR_MAX = Activity.ERROR_MAX

# {guard}: the condition the row is written under (the store's: the chat's credit hold was still there).
ANSWERED_INSERT_IF = """
INSERT INTO conversations_activity
    (channel_id, organisation_id, created_at, api_key_id, key_name, source, endpoint, session_id, model,
     prompt_tokens, completion_tokens, cost, latency_ms, status, outcome, error)
SELECT %(channel)s, %(a_organisation)s, %(replied)s, %(a_key)s, %(a_key_name)s, %(source)s, %(a_endpoint)s,
        %(session)s, %(model)s, %(prompt_tokens)s, %(completion_tokens)s, %(cost)s::numeric, %(a_latency)s, 200,
        'answered', %(a_error)s
WHERE {guard}
"""


@dataclass(frozen=True)
class Facts:
    """Who made a request, as the key edge verified it: for its row in the log."""

    organisation_id: int
    endpoint: str
    key_id: int | None = None  # a secret key's ApiKey id; None for the widget's publishable key
    key_name: str = ""


def latency_ms(started: dt.datetime, ended: dt.datetime) -> int:
    return max(0, round((ended - started).total_seconds() * 1000))


def answered_params(*, facts: Facts, received_at: dt.datetime, replied_at: dt.datetime, error: str = "") -> dict:
    """ANSWERED_INSERT's own parameters (the exchange's are the store statement's)."""
    return {
        "a_organisation": facts.organisation_id, "a_key": facts.key_id, "a_key_name": facts.key_name[:60],
        "a_endpoint": facts.endpoint[:24], "a_latency": latency_ms(received_at, replied_at), "a_error": error[:ERROR_MAX],
    }


def answered_add(
    *, facts: Facts, channel_id: int, source: str, session_id: str, model: str, prompt_tokens: int | None,
    completion_tokens: int | None, cost: Decimal | None, received_at: dt.datetime, replied_at: dt.datetime,
    error: str = "",
) -> None:
    """An answered chat's row, through the ORM: call inside the transaction that stores the exchange."""
    Activity.objects.create(
        channel_id=channel_id, organisation_id=facts.organisation_id, created_at=replied_at, api_key_id=facts.key_id,
        key_name=facts.key_name[:60], source=source, endpoint=facts.endpoint[:24], session_id=session_id[:255],
        model=model[:64], prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, cost=cost,
        latency_ms=latency_ms(received_at, replied_at), status=200, outcome=Activity.Outcome.ANSWERED,
        error=error[:ERROR_MAX],
    )


def refusal_add(
    *, facts: Facts, channel_id: int, source: str, at: dt.datetime, status: int, error: str, session_id: str = "",
    model: str = "", latency: int | None = None,
) -> None:
    """A refused (4xx) or failed (5xx) request's row: only services.failed_request_record calls it."""
    Activity.objects.create(
        channel_id=channel_id, organisation_id=facts.organisation_id, created_at=at, api_key_id=facts.key_id,
        key_name=facts.key_name[:60], source=source, endpoint=facts.endpoint[:24], session_id=session_id[:255],
        model=model[:64], status=status, outcome=Activity.outcome_of(status), error=error[:ERROR_MAX],
        latency_ms=latency,
    )


def answered_read_add(
    *, facts: Facts, channel_id: int, source: str, at: dt.datetime, status: int, session_id: str = "",
    latency: int | None = None, model: str = "", note: str = "",
) -> None:
    """An answered request the chat store does not record: only services.answered_request_record calls it."""
    Activity.objects.create(
        channel_id=channel_id, organisation_id=facts.organisation_id, created_at=at, api_key_id=facts.key_id,
        key_name=facts.key_name[:60], source=source, endpoint=facts.endpoint[:24], session_id=session_id[:255],
        model=model[:64], status=status, outcome=Activity.Outcome.ANSWERED, latency_ms=latency, error=note[:ERROR_MAX],
    )
