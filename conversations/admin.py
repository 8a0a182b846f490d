"""Staff admin for conversations: read-only sessions, transcripts, messages and failed requests."""

from django.contrib import admin
from django.db.models import Count
from django.utils import timezone

from conversations import threads
from conversations.models import AuditEvent, FailedRequest, Feedback, Message, Session


class ReadOnlyAdmin(admin.ModelAdmin):
    """Stored conversations are evidence: staff read them, nobody edits them here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("created_at", "role", "content", "model", "prompt_tokens", "completion_tokens", "latency_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("id",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ExpiredFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("expired", "Expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(**threads.live(now))
        if self.value() == "expired":
            return queryset.exclude(**threads.live(now))
        return queryset


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ("session_id", "source", "thread", "channel", "model", "started_at", "expires_at", "expired", "messages_count")
    list_filter = (ExpiredFilter, "source", "channel", "channel__model", "started_at")
    search_fields = ("session_id", "channel__name")
    date_hierarchy = "started_at"
    list_select_related = ("channel",)
    inlines = [MessageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_messages=Count("messages"))

    @admin.display(description="messages", ordering="n_messages")
    def messages_count(self, obj) -> int:
        return obj.n_messages

    @admin.display(description="model", ordering="channel__model")
    def model(self, obj) -> str:
        return obj.channel.model

    @admin.display(boolean=True)
    def expired(self, obj) -> bool:
        return not threads.is_live(obj.expires_at, timezone.now())


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "role", "short_content", "session", "channel", "model", "tokens", "latency_ms")
    list_filter = ("session__channel", "model", "role", "created_at")
    search_fields = ("content", "session__session_id")
    date_hierarchy = "created_at"
    list_select_related = ("session__channel",)

    @admin.display(description="content")
    def short_content(self, obj) -> str:
        return obj.content if len(obj.content) <= 80 else obj.content[:79] + "…"

    @admin.display(description="channel", ordering="session__channel__name")
    def channel(self, obj):
        return obj.session.channel

    @admin.display(description="tokens")
    def tokens(self, obj) -> str:
        if obj.prompt_tokens is None:
            return "–"
        return f"{obj.prompt_tokens} + {obj.completion_tokens or 0}"


@admin.register(FailedRequest)
class FailedRequestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "channel", "endpoint", "status", "error")
    list_filter = ("status", "endpoint", "channel", "created_at")
    date_hierarchy = "created_at"
    list_select_related = ("channel",)


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "rating", "comment", "message")
    list_filter = ("rating", "created_at")
    list_select_related = ("message__session",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Erasures and purges: when, how, by whom and how much; never the content (conversations/erasure.py)."""

    list_display = ("created_at", "channel", "action", "via", "actor", "counts")
    list_filter = ("action", "via", "channel", "created_at")
    list_select_related = ("channel", "actor")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
