"""Feedback on replies: 👍/👎 with an optional comment, from the widget or the owner's backend (POST /api/feedback).

It rates the latest reply of the session's current thread, in the key's own
namespace (a publishable key only on a session the gateway issued for its
channel). Giving it again replaces it: one feedback per reply.
"""

from django.db.models import Count, Q
from django.utils import timezone
from rest_framework import serializers

from channels_app.credentials import VerifiedKey
from channels_app.models import Channel
from conversations.edge.serializers import SESSION_ID_MAX, StrictSerializer, Text
from conversations.engine import admission, threads
from conversations.models import Feedback, Message
from gateway.infra.db import in_db_phase
from gateway.infra.errors import NoReplyToRate

_RATING_CHOICE = 'rating must be "up" or "down"'


class FeedbackInput(StrictSerializer):
    """Feedback on the latest reply of a session. Unknown fields are refused."""

    default_error_messages = {"invalid": "Request body must be a JSON object"}

    session_id = Text(name="session_id", max_length=SESSION_ID_MAX)
    rating = serializers.ChoiceField(
        choices=Feedback.Rating.values,
        help_text="`up` (👍) or `down` (👎).",
        error_messages={
            "required": "rating is required", "null": _RATING_CHOICE, "invalid_choice": _RATING_CHOICE,
            "blank": _RATING_CHOICE, "invalid": _RATING_CHOICE,
        },
    )
    comment = Text(name="comment", max_length=Feedback.COMMENT_MAX, required=False, allow_blank=True, default="")


class FeedbackOutput(serializers.Serializer):
    session_id = serializers.CharField()
    rating = serializers.ChoiceField(choices=Feedback.Rating.values)
    comment = serializers.CharField(allow_blank=True)


async def feedback_give(*, key: VerifiedKey, session_id: str, rating: str, comment: str = "") -> dict:
    """Record feedback on the latest reply of `session_id`'s current thread; raises NoReplyToRate when it has none.

    Counted like a history read (admission.py: the key kind's per-minute limit, a widget visitor's limits),
    and a publishable key's session_id must be one issued for its channel.
    """
    key = (await admission.admit(key, "feedback", session_id)).key
    return await in_db_phase(_feedback_store, key.channel, key.source, session_id, rating, comment)


def _feedback_store(channel: Channel, source: str, session_id: str, rating: str, comment: str) -> dict:
    now = timezone.now()
    reply = (
        Message.objects.filter(
            session__channel=channel, session__source=source,
            session__session_id=session_id, role=Message.Role.ASSISTANT, **threads.live(now, through="session__"),
        )
        .order_by("-id")
        .only("id")
        .first()
    )
    if reply is None:
        raise NoReplyToRate()
    Feedback.objects.update_or_create(message=reply, defaults={"rating": rating, "comment": comment, "created_at": now})
    return {"session_id": session_id, "rating": rating, "comment": comment}


def feedback_counts(*, channel: Channel, since=None) -> dict[str, int]:
    """👍 and 👎 on the channel's replies (given since `since`, when set)."""
    found = Feedback.objects.filter(message__session__channel=channel)
    if since is not None:
        found = found.filter(created_at__gte=since)
    counts = found.aggregate(
        up=Count("id", filter=Q(rating=Feedback.Rating.UP)), down=Count("id", filter=Q(rating=Feedback.Rating.DOWN))
    )
    return {"up": counts["up"] or 0, "down": counts["down"] or 0}
