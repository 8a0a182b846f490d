"""Staff admin for conversations: read-only sessions, transcripts, messages and failed requests.

These tables grow to millions of rows, so every list answers in bounded work (docs/performance.md,
"Owner pages at scale"): no full COUNT (show_full_result_count off; a capped count unfiltered, none at all
filtered: gateway/infra/paginators.py), newest first
by primary key, sorting only on indexed columns (sortable_by), filters whose choices are fixed lists
(never a SELECT DISTINCT over the table) on indexed columns, search only by an exact session_id (its
index), per-row subqueries instead of aggregates over the whole list, and no date_hierarchy
(its drill-down is a SELECT DISTINCT date_trunc over the whole table: 0.8 s at a million messages); the
date list filters (ranges on an indexed column) take its place.
"""

from django.contrib import admin
from django.contrib.admin.views.main import (
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    PAGE_VAR,
    TO_FIELD_VAR,
)
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from channels_app.providers import catalog
from conversations.engine import threads
from conversations.models import AuditEvent, FailedRequest, Feedback, Message, Session
from gateway.infra.paginators import CappedCountPaginator, NextPagePaginator

# Query parameters of a change list that do not narrow it (Django's own); any other one is a filter or a search.
_NOT_FILTERS = {ALL_VAR, ERROR_FLAG, IS_FACETS_VAR, IS_POPUP_VAR, ORDER_VAR, PAGE_VAR, TO_FIELD_VAR}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Stored conversations are evidence: staff read them, nobody edits them here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class LargeTableAdmin(ReadOnlyAdmin):
    """A list over a table of millions of rows: bounded work per page."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ("-pk",)
    # Rendering the rows is what is left of a page's time (about 2 ms a row here, its queries ~10 ms).
    list_per_page = 50
    # "Show all" would read every row of a filtered list, whose size NextPagePaginator does not know; facets
    # count every filter choice over the whole list.
    list_max_show_all = 0
    show_facets = admin.ShowFacets.NEVER

    # The list filtered to one channel (its query parameter) is ordered as the channel's index walks it: a
    # primary-key walk would pass every newer row of the other channels first, unbounded for a quiet channel.
    channel_filter = ""
    channel_ordering: tuple[str, ...] = ()

    def get_ordering(self, request):
        if self.channel_filter and self.channel_filter in request.GET:
            return self.channel_ordering
        return super().get_ordering(request)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """A capped count for the whole table (one index, cheap); no count at all once filtered or searched."""
        if not set(request.GET) - _NOT_FILTERS:
            return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        try:
            number = int(request.GET.get(PAGE_VAR, 1))  # as the ChangeList reads it
        except ValueError:
            number = 1
        return NextPagePaginator(queryset, per_page, orphans, allow_empty_first_page, number=number)


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


class ModelFilter(admin.SimpleListFilter):
    """By model, its choices from the catalog: the default filter would read every distinct value of the table."""

    title = "model"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(m.id, m.name) for m in catalog.snapshot().models.values()]  # retired ones too: old replies name them

    def queryset(self, request, queryset):
        # Only replies have a model: saying so lets the database use the partial index (role = assistant).
        return queryset.filter(role=Message.Role.ASSISTANT, model=self.value()) if self.value() else queryset


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"
    STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 504)

    def lookups(self, request, model_admin):
        return [(str(s), str(s)) for s in self.STATUSES]

    def queryset(self, request, queryset):
        return queryset.filter(status=int(self.value())) if (self.value() or "").isdigit() else queryset


def _message_count() -> Coalesce:
    count = Message.objects.filter(session=OuterRef("pk")).order_by().values("session").annotate(n=Count("id"))
    return Coalesce(Subquery(count.values("n"), output_field=IntegerField()), 0)


@admin.register(Session)
class SessionAdmin(LargeTableAdmin):
    list_display = ("session_id", "source", "thread", "channel", "model", "started_at", "expires_at", "expired", "messages_count")
    list_filter = (ExpiredFilter, "source", "channel", "channel__model", "started_at")
    channel_filter, channel_ordering = "channel__id__exact", ("-started_at", "-pk")  # session_channel_recent_id
    search_fields = ("session_id__exact",)  # a pasted id, through its index; the owner's list searches substrings
    list_select_related = ("channel",)
    sortable_by = ("started_at", "expires_at")
    inlines = [MessageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_messages=_message_count())

    def get_ordering(self, request):
        # Live threads newest first by expiry walk session_expires_recent and stop at a page, wherever the
        # primary keys of live threads lie (a primary-key walk would filter past every expired one first).
        if request.GET.get(ExpiredFilter.parameter_name) == "live":
            return ("-expires_at", "-pk")
        return super().get_ordering(request)

    @admin.display(description="messages")
    def messages_count(self, obj) -> int:
        return obj.n_messages

    @admin.display(description="model")
    def model(self, obj) -> str:
        return obj.channel.model

    @admin.display(boolean=True)
    def expired(self, obj) -> bool:
        return not threads.is_live(obj.expires_at, timezone.now())


@admin.register(Message)
class MessageAdmin(LargeTableAdmin):
    list_display = ("created_at", "role", "short_content", "session", "channel", "model", "tokens", "latency_ms")
    list_filter = ("session__channel", ModelFilter, "role", "created_at")
    # A channel's messages thread by thread, newest thread first: its sessions through session_channel_recent_id,
    # each one's messages through their session index (no channel column on messages: 50 M rows). Newest message
    # first across threads would need every message of the channel sorted.
    channel_filter = "session__channel__id__exact"
    channel_ordering = ("-session__started_at", "-session__id", "-pk")
    search_fields = ("session__session_id__exact",)
    list_select_related = ("session__channel",)
    sortable_by = ("created_at",)

    @admin.display(description="content")
    def short_content(self, obj) -> str:
        return obj.content if len(obj.content) <= 80 else obj.content[:79] + "…"

    @admin.display(description="channel")
    def channel(self, obj):
        return obj.session.channel

    @admin.display(description="tokens")
    def tokens(self, obj) -> str:
        if obj.prompt_tokens is None:
            return "–"
        return f"{obj.prompt_tokens} + {obj.completion_tokens or 0}"


@admin.register(FailedRequest)
class FailedRequestAdmin(LargeTableAdmin):
    list_display = ("created_at", "channel", "endpoint", "status", "error")
    list_filter = (StatusFilter, "channel", "created_at")
    channel_filter, channel_ordering = "channel__id__exact", ("-created_at", "-pk")  # failedrequest_channel_time
    list_select_related = ("channel",)
    sortable_by = ("created_at",)


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "rating", "comment", "message")
    list_filter = ("rating", "created_at")
    list_select_related = ("message__session",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Erasures and purges: when, how, by whom and how much; never the content (conversations/engine/erasure.py)."""

    list_display = ("created_at", "channel", "action", "via", "actor", "counts")
    list_filter = ("action", "via", "channel", "created_at")
    list_select_related = ("channel", "actor")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
