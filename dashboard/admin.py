"""Staff admin for channels: the list with each channel's and its owner's spend over 30 days, read from the chat
engine's usage roll-ups (so it lives above conversations), its keys inline (only masked), and the credit top-up.
The other channels_app models' admin is channels_app/admin.py's."""

import datetime as dt
from datetime import timedelta

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from channels_app.credits import credit_grant
from channels_app.models import ApiKey, Channel
from dashboard import usage
from dashboard.channel_forms import CreditTopUpForm
from dashboard.templatetags.dashboard import usd


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("name", "masked", "created_at", "revoked_at", "last_used_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = (
        "name", "owner", "model", "is_active", "credits", "rate_limit_per_minute", "daily_limit", "cost_30_days",
        "owner_cost_30_days", "created_at",
    )
    list_filter = ("is_active", "widget_pow_required", "model", "created_at")
    list_select_related = ("owner",)
    search_fields = ("name", "owner__email", "owner__username", "=public_id")
    readonly_fields = ("public_id", "credits", "created_at", "updated_at")
    raw_id_fields = ("owner", "organisation")
    date_hierarchy = "created_at"
    inlines = [ApiKeyInline]
    actions = ["top_up_credits"]

    def get_queryset(self, request):
        # Spend from the usage roll-ups (one row per channel and day), never from the messages.
        since = timezone.now().astimezone(dt.timezone.utc).date() - timedelta(days=usage.ADMIN_COST_DAYS - 1)
        return super().get_queryset(request).annotate(
            cost_30=usage.channel_cost_since(since), owner_cost_30=usage.owner_cost_since(since)
        )

    @admin.display(description="cost, 30 days", ordering="cost_30")
    def cost_30_days(self, obj) -> str:
        return usd(obj.cost_30)

    @admin.display(description="owner's cost, 30 days", ordering="owner_cost_30")
    def owner_cost_30_days(self, obj) -> str:
        return usd(obj.owner_cost_30)

    def has_add_permission(self, request) -> bool:
        # A channel needs its first key, issued by the service: owners create channels in the
        # dashboard, staff with `manage.py create_channel`.
        return False

    @admin.action(description="Top up credits of the selected channels", permissions=["change"])
    def top_up_credits(self, request, queryset):
        form = CreditTopUpForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            amount = form.cleaned_data["amount"]
            for channel in queryset:
                credit_grant(channel=channel, amount=amount, staff=request.user)  # recorded as a CreditGrant
            self.message_user(request, f"Added {amount:,} credits to {queryset.count()} channel(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Top up credits",
            "form": form,
            "channels": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/channels_app/channel/credit_topup.html", context)
