import hashlib

from django.conf import settings
from django.db import models
from django.db.models.functions import Left, Upper

from channels_app.models import Channel

# How much of a thread's first message its exact-search index holds (case-folded): enough to tell messages apart,
# short enough for a btree entry whatever the message's length. transcripts.sessions_for_channel reads it.
FIRST_MESSAGE_HEAD = 100


def first_message_head(expression) -> Upper:
    """The indexed, case-folded start of a first message (or of a search for one): the same SQL as the index."""
    return Upper(Left(expression, FIRST_MESSAGE_HEAD))


class Session(models.Model):
    """One thread of a caller's conversation, living SESSION_TTL_HOURS from its first message.

    The same `session_id` gets a new thread (the next `thread`) once the latest
    one has expired; expired threads stay for the owner to read.

    `source` is the namespace: sessions of secret keys ("api") and of the
    widget's publishable keys ("widget") never share a conversation, even under
    the same session_id (docs/widget.md). It comes from the verified key's
    kind, never from the request.
    """

    class Source(models.TextChoices):
        API = "api", "API (secret key)"
        WIDGET = "widget", "Widget (publishable key)"

    # No index of its own: the (channel, started_at, id) index below serves every lookup by channel.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="sessions", db_index=False)
    # Rows from before namespaces existed are "api": they cannot be told apart.
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.API)
    session_id = models.CharField(max_length=255)
    thread = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # The page the thread's latest message named (the chat's metadata.url and metadata.title), for the owner's list
    # and transcript; written by the chat store (conversations/engine/store), blank for a thread that named none.
    page_url = models.CharField(max_length=2048, blank=True, default="", db_default="")
    page_title = models.CharField(max_length=200, blank=True, default="", db_default="")
    # The thread's first user message, written once by the chat store when it starts the thread, so the
    # owner's list searches it through an index (pg_trgm on PostgreSQL) instead of joining the messages.
    first_message = models.TextField(blank=True, default="", db_default="")

    class Meta:
        constraints = [
            # Concurrent first messages race on this and all but one re-read the winner.
            models.UniqueConstraint(fields=["channel", "source", "session_id", "thread"], name="session_thread_unique"),
        ]
        # The owner's list pages by keyset on (started_at, id), newest first, optionally in one namespace.
        # On PostgreSQL, migration 0010 adds trigram indexes for its search (session_id, first_message).
        indexes = [
            models.Index(fields=["channel", "-started_at", "-id"], name="session_channel_recent_id"),
            models.Index(fields=["channel", "source", "-started_at", "-id"], name="session_channel_source_recent"),
            # The admin's date filters (conversations/admin.py), across channels.
            models.Index(fields=["started_at"], name="session_started"),
            models.Index(fields=["session_id"], name="session_id_exact"),  # the admin's search, across channels
            # The owner's search for an exact session_id or first message, walked in the list's keyset order, so
            # a page of matches costs a page of index entries however many threads match.
            models.Index(fields=["channel", "session_id", "-started_at", "-id"], name="session_channel_id_recent"),
            models.Index(models.F("channel"), first_message_head("first_message"), models.F("started_at").desc(),
                         models.F("id").desc(), name="session_first_message_exact"),
            # The admin's live sessions, newest first (conversations/admin.py orders that list by expiry).
            models.Index(fields=["-expires_at", "-id"], name="session_expires_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} #{self.thread}" if self.source == self.Source.API else f"{self.session_id} #{self.thread} (widget)"

    @property
    def page_link(self) -> str:
        """page_url when it is an http(s) address, safe to link to; else ""."""
        return self.page_url if self.page_url.lower().startswith(("http://", "https://")) else ""

    @property
    def visitor_name(self) -> str:
        """A name people can say: "Visitor 3f2a" for a widget session (ids are long and random), else the session_id."""
        if self.source == self.Source.WIDGET:
            return "Visitor " + hashlib.sha256(self.session_id.encode("utf-8", "surrogatepass")).hexdigest()[:4]
        return self.session_id


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField()
    created_at = models.DateTimeField()
    # Set on assistant replies only.
    model = models.CharField(max_length=64, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # True when the provider sent no usage and the tokens above were counted locally (channels_app/providers/tokens.py).
    tokens_estimated = models.BooleanField(default=False)
    # US dollars, from the model catalog's prices per million tokens when the reply was stored.
    cost = models.DecimalField(max_digits=16, decimal_places=10, null=True, blank=True)

    class Meta:
        # Insertion order: a user message and its reply are inserted together,
        # so each exchange stays adjacent even when exchanges overlap.
        ordering = ["id"]
        # The admin's date and model filters (conversations/admin.py) and rebuild_usage's day ranges;
        # the model index is partial (replies only: user messages have none), so it costs user rows nothing.
        indexes = [
            models.Index(fields=["created_at"], name="message_created"),
            models.Index(fields=["model", "id"], name="message_model", condition=models.Q(role="assistant")),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"

    def to_dict(self) -> dict:
        return {"role": self.role, "content": self.content, "created_at": _iso_utc(self.created_at)}


def _iso_utc(value) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")



class FailedRequest(models.Model):
    """An API request of a known channel that got an error (4xx/5xx) instead of an answer.

    Successful chats are counted from their Messages; this records the rest,
    so owners can see errors and 429s per day. Written only on failure, so the
    successful path pays nothing for it.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="failed_requests")
    endpoint = models.CharField(max_length=16)  # its name in the endpoint table (gateway/infra/endpoints.py)
    status = models.PositiveSmallIntegerField()
    ERROR_MAX = 200  # longer error strings are cut to fit
    error = models.CharField(max_length=ERROR_MAX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["channel", "created_at"], name="failedrequest_channel_time"),
            models.Index(fields=["created_at"], name="failedrequest_time"),  # the admin's date filter, all channels
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.status}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a channel sent with a chat, and the answer it got.

    `response` is null while the first request is still running.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="idempotency_keys")
    # The key kind's namespace, as for Session: a widget's key never replays or blocks a backend's.
    source = models.CharField(max_length=8, choices=Session.Source.choices, default=Session.Source.API)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the validated request
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "source", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return self.key


class Feedback(models.Model):
    """A visitor's or backend's 👍/👎 on one assistant reply, with an optional comment (conversations/edge/feedback.py).

    One per reply: giving it again replaces it. Deleted with its message (erasure, retention).
    """

    class Rating(models.TextChoices):
        UP = "up", "👍"
        DOWN = "down", "👎"

    COMMENT_MAX = 1000
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="feedback")
    rating = models.CharField(max_length=4, choices=Rating.choices)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.rating


class AuditEvent(models.Model):
    """What was done to visitors' data, by whom and how much, never the data itself.

    `subject` is a keyed digest of the session_id (conversations/engine/erasure.py), so an
    erasure can be confirmed for an id the owner still has without the log keeping it.
    """

    class Action(models.TextChoices):
        SESSION_ERASED = "session_erased", "Session erased"
        RETENTION_PURGE = "retention_purge", "Retention purge"

    class Via(models.TextChoices):
        DASHBOARD = "dashboard", "Dashboard"
        API = "api", "API (secret key)"
        SCHEDULE = "schedule", "Scheduled purge"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="audit_events")
    action = models.CharField(max_length=32, choices=Action.choices)
    via = models.CharField(max_length=16, choices=Via.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["channel", "-created_at"], name="auditevent_channel_recent")]

    def __str__(self) -> str:
        return f"{self.action} via {self.via}"


class UsageDay(models.Model):
    """A channel's usage on one UTC day, kept as chats and failures are recorded (conversations/engine/rollups.py).

    The dashboard's usage page, cards and the admin's cost read these rows, never the messages:
    their cost does not grow with the history. `manage.py rebuild_usage` recomputes them from
    messages and failed requests for a date range.

    A channel's day is split over up to settings.USAGE_SHARDS rows (`shard`), each chat adding to one of
    them, so a busy channel's concurrent chats do not all wait for one row's lock; every reader sums a
    day's shards.
    """

    # No index of its own: the unique (channel, day, shard) serves every lookup by channel.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="usage_days", db_index=False)
    day = models.DateField()
    shard = models.PositiveSmallIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    limited = models.PositiveIntegerField(default=0)  # 429
    refused = models.PositiveIntegerField(default=0)  # other 4xx
    errors = models.PositiveIntegerField(default=0)  # 5xx
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=20, decimal_places=10, default=0)  # US dollars, priced replies only
    last_at = models.DateTimeField(null=True, blank=True)  # the day's latest answered chat

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "day", "shard"], name="usageday_channel_day_shard")]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.day} ({self.shard})"


class UsageLatency(models.Model):
    """How many of a channel's answered chats of one UTC day took a latency within one bucket
    (conversations/engine/rollups.py LATENCY_BUCKETS_MS); the median and p95 are read from these. Sharded as
    UsageDay is: a bucket's count is the sum over its shards."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="usage_latencies", db_index=False)
    day = models.DateField()
    bucket = models.PositiveSmallIntegerField()
    shard = models.PositiveSmallIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "day", "bucket", "shard"], name="usagelatency_channel_day_bucket_shard"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.day} #{self.bucket} ({self.shard})"


# The rows the activity log's partial indexes hold: refusals and failures (activity_selectors.py filters by it, so
# the planner can use them).
NOT_ANSWERED = models.Q(outcome__in=["refused", "failed"])


class Activity(models.Model):
    """One API request of a channel, as its owner's activity log shows it: answered, refused or failed.

    An answered chat's row is inserted by the chat store in the statement that stores the exchange
    (conversations/engine/store); refused and failed requests by services.failed_request_record, once the answer is built.
    The key is named (its name then, and a link to it for its mask), never stored. The organisation is
    the channel's, kept on the row so the organisation's log reads one index. Purged with the channel's
    retention (conversations/engine/retention.py).
    """

    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered"
        REFUSED = "refused", "Refused"  # 4xx: the key, a limit, the credits, the request itself
        FAILED = "failed", "Failed"  # 5xx: the provider, or the gateway

    ERROR_MAX = 200
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="activity", db_index=False)
    organisation = models.ForeignKey("teams.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False)
    created_at = models.DateTimeField()
    api_key = models.ForeignKey(
        "channels_app.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    key_name = models.CharField(max_length=60, blank=True)  # the key's name when the request came
    source = models.CharField(max_length=8, choices=Session.Source.choices, default=Session.Source.API)
    endpoint = models.CharField(max_length=24)
    session_id = models.CharField(max_length=255, blank=True)
    model = models.CharField(max_length=64, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=16, decimal_places=10, null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    status = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    error = models.CharField(max_length=ERROR_MAX, blank=True)

    class Meta:
        verbose_name_plural = "activity"
        # The log pages by keyset on (created_at, id), newest first: per channel or organisation, optionally of one
        # key or model, or of one outcome or status code, each filter walking its own index in the page's order
        # (activity_selectors.py). Refusals and failures are a small part of the log: their indexes are partial,
        # so an answered chat's row costs the six full indexes' entries, not ten; answered rows are most of the log, so
        # the "answered" filter walks the plain time index.
        indexes = [
            models.Index(fields=["channel", "-created_at", "-id"], name="activity_channel_recent"),
            models.Index(fields=["channel", "api_key", "-created_at", "-id"], name="activity_channel_key"),
            models.Index(fields=["channel", "model", "-created_at", "-id"], name="activity_channel_model"),
            models.Index(fields=["organisation", "-created_at", "-id"], name="activity_org_recent"),
            models.Index(fields=["organisation", "model", "-created_at", "-id"], name="activity_org_model"),
            models.Index(fields=["channel", "outcome", "-created_at", "-id"], name="activity_channel_outcome",
                         condition=NOT_ANSWERED),
            models.Index(fields=["channel", "status", "-created_at", "-id"], name="activity_channel_status",
                         condition=NOT_ANSWERED),
            models.Index(fields=["organisation", "outcome", "-created_at", "-id"], name="activity_org_outcome",
                         condition=NOT_ANSWERED),
            models.Index(fields=["organisation", "status", "-created_at", "-id"], name="activity_org_status",
                         condition=NOT_ANSWERED),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.status}"

    @staticmethod
    def outcome_of(status: int) -> str:
        if status < 400:
            return Activity.Outcome.ANSWERED
        return Activity.Outcome.REFUSED if status < 500 else Activity.Outcome.FAILED
