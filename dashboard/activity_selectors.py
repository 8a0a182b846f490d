"""The activity log's reads: a channel's or an organisation's requests, filtered, newest first, by keyset pages.

Every filter keeps the page on one index walked in the page's order (conversations.models.Activity's indexes):
the scope (channel or organisation), optionally a key, a model, or a refused/failed outcome or code (partial
indexes); answered rows, most of the log, walk the time index. The time range bounds that walk. A page is
the PER_PAGE rows before a cursor, never counted and never skipped with OFFSET, so the 1,000th page costs what the
first does.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet

from channels_app.models import ApiKey, Channel
from conversations.models import NOT_ANSWERED, Activity

PER_PAGE = 50
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Filters:
    """What the log is narrowed to; empty fields narrow nothing."""

    outcome: str = ""
    status: int | None = None
    key_id: int | None = None  # an ApiKey of the scope (activity_keys); ids of other scopes match nothing
    key_channel_id: int | None = None  # its channel: the log of one key is walked on (channel, key, time)
    model: str = ""
    channel_id: int | None = None  # on the organisation's log: one of its channels
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def narrowing(self) -> bool:
        return any(value not in ("", None) for value in vars(self).values())


@dataclass(frozen=True)
class ActivityPage:
    rows: list[Activity]
    older: str | None  # the cursor of the next (older) page, None on the last
    newest: bool  # the first page (no cursor)
    extra: dict = field(default_factory=dict)

    @property
    def has_other_pages(self) -> bool:
        return self.older is not None or not self.newest


def activity_rows(*, channel: Channel | None = None, organisation=None, filters: Filters = Filters()) -> QuerySet:
    """The scope's requests narrowed by `filters`, newest first (created_at, id)."""
    if channel is not None:
        rows = Activity.objects.filter(channel=channel)
    else:
        rows = Activity.objects.filter(organisation=organisation)
        one = {filters.channel_id, filters.key_channel_id} - {None}
        if one:
            # One channel of the organisation (checked to be one), so the channel's own indexes serve the page.
            mine = len(one) == 1 and Channel.objects.filter(pk__in=one, organisation=organisation).exists()
            rows = Activity.objects.filter(channel_id=one.pop()) if mine else Activity.objects.none()
    outcome = filters.outcome
    if filters.status is not None:
        implied = Activity.outcome_of(filters.status)
        if outcome and outcome != implied:
            return Activity.objects.none()  # a code of another outcome than the one asked: nothing is both
        rows, outcome = rows.filter(status=filters.status), implied
    if outcome == Activity.Outcome.ANSWERED:
        rows = rows.filter(outcome=outcome)  # most rows: the time index, filtered
    elif outcome:
        rows = rows.filter(NOT_ANSWERED, outcome=outcome)  # the partial indexes' own condition, so they serve it
    if filters.key_id is not None:
        rows = rows.filter(channel_id=filters.key_channel_id, api_key_id=filters.key_id)
    if filters.model:
        rows = rows.filter(model=filters.model)
    if filters.since is not None:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(created_at__lt=filters.until)
    return rows.order_by("-created_at", "-id")


def cursor_of(row: Activity) -> str:
    """A page cursor: the row's time in microseconds since the epoch and its id."""
    return f"{(row.created_at - _EPOCH) // dt.timedelta(microseconds=1)}_{row.pk}"


def parse_cursor(cursor: str | None) -> tuple[dt.datetime, int] | None:
    try:
        micros, pk = (int(part) for part in (cursor or "").split("_"))
        return _EPOCH + dt.timedelta(microseconds=micros), pk
    except (ValueError, OverflowError):
        return None  # no cursor, or a bad one: the first page


def older_than(rows: QuerySet, cursor: tuple[dt.datetime, int] | None) -> QuerySet:
    if cursor is None:
        return rows
    at, pk = cursor
    # created_at <= t bounds the index walk; the tie on t is broken by id.
    return rows.filter(created_at__lte=at).exclude(created_at=at, id__gte=pk)


def activity_page(rows: QuerySet, *, before: str | None = None, per_page: int = PER_PAGE) -> ActivityPage:
    """The `per_page` newest of `rows` before the cursor `before`, with their keys and channels loaded."""
    after = parse_cursor(before)
    found = list(older_than(rows, after).select_related("api_key", "channel")[: per_page + 1])
    older = cursor_of(found[per_page - 1]) if len(found) > per_page else None
    return ActivityPage(rows=found[:per_page], older=older, newest=after is None)


def activity_keys(*, channel: Channel | None = None, organisation=None) -> list[ApiKey]:
    """The secret keys a log may be filtered by: the channel's, or every channel's of the organisation."""
    keys = ApiKey.objects.filter(channel=channel) if channel is not None else ApiKey.objects.filter(
        channel__organisation=organisation
    )
    return list(keys.select_related("channel").order_by("channel__name", "name", "-created_at"))


def activity_models(*, channel: Channel | None = None, organisation=None) -> list[str]:
    """The models a log may be filtered by: the channels' own and fallback models (no scan of the log)."""
    channels = [channel] if channel is not None else list(Channel.objects.filter(organisation=organisation))
    found = {name for c in channels for name in (c.model, c.fallback_model) if name}
    return sorted(found)
