"""Pages that load the widget from an origin its channel does not allow: counted for the owner's dashboard.

The widget asks for its settings first (GET /api/widget-config); a refusal there
("Origin not allowed") is counted per channel and origin (conversations/edge/views.py
`WidgetConfigView` calls `refused_origin_record`), so the owner sees where the
widget is embedded but not working, and can allow the origin or ignore it.
Only well-formed origins are kept, at most RefusedOrigin.MAX_PER_CHANNEL per channel.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from channels_app import origins
from channels_app.models import Channel, RefusedOrigin


def refused_origin_record(*, channel: Channel, origin: str) -> bool:
    """Count one refusal of `origin` for `channel`; False when it is not kept (malformed, or the list is full)."""
    try:
        canonical = origins.normalise(origin)
    except ValidationError:
        return False
    if canonical != origin or len(origin) > RefusedOrigin.ORIGIN_MAX:
        return False  # browsers send origins in canonical form; anything else is not a page
    now = timezone.now()
    found = RefusedOrigin.objects.filter(channel=channel, origin=origin)
    if found.update(count=F("count") + 1, last_seen=now):
        return True
    if RefusedOrigin.objects.filter(channel=channel).count() >= RefusedOrigin.MAX_PER_CHANNEL:
        return False
    try:
        with transaction.atomic():
            RefusedOrigin.objects.create(channel=channel, origin=origin, count=1, first_seen=now, last_seen=now)
    except IntegrityError:  # a concurrent first refusal won: count on its row
        found.update(count=F("count") + 1, last_seen=now)
    return True


def refused_origins_for(*, channel: Channel) -> list[RefusedOrigin]:
    """The channel's refused origins, latest first, without those the owner has allowed since."""
    found = RefusedOrigin.objects.filter(channel=channel).exclude(origin__in=channel.allowed_origins or [])
    return list(found.order_by("-last_seen")[: RefusedOrigin.MAX_PER_CHANNEL])
