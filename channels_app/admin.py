"""Staff admin for keys, their reveals and credit requests. A key appears only masked: never its plaintext, ciphertext
or digest. The channel list, whose columns read the chat engine's roll-ups, is dashboard/admin.py's."""

from datetime import timedelta

from django.contrib import admin, messages

from channels_app.credits import CreditRequestDecided, credit_request_decline, credit_request_grant
from channels_app.models import ApiKey, CreditGrant, CreditRequest, KeyReveal
from channels_app.services import api_key_revoke, api_key_rotate

SECRET_FIELDS = ("ciphertext", "digest")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "masked", "channel", "status", "created_at", "revoked_at", "last_used_at")
    list_filter = ("created_at", "revoked_at")
    search_fields = ("channel__name", "channel__owner__email", "=public_id")
    fields = ("name", "masked", "public_id", "channel", "rate_limit_per_minute", "credit_cap", "credits_spent",
              "created_at", "revoked_at", "last_used_at")
    readonly_fields = ("masked", "public_id", "channel", "credits_spent", "created_at", "last_used_at")
    list_select_related = ("channel",)
    actions = ["rotate_keys", "revoke_keys"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are issued by services (rotation), never typed in

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if lookup.split("__")[0] in SECRET_FIELDS:
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="status")
    def status(self, obj: ApiKey) -> str:
        if obj.revoked_at is None:
            return "active"
        return "in grace period" if obj.is_usable() else "revoked"

    @admin.action(description="Rotate: issue a new key, revoke the selected channels' current keys now", permissions=["change"])
    def rotate_keys(self, request, queryset):
        channels = {key.channel_id: key.channel for key in queryset.select_related("channel")}
        for channel in channels.values():
            # Staff never see the new plaintext, so no reveal is recorded for them.
            issued = api_key_rotate(channel=channel, grace=timedelta(0))
            self.message_user(
                request,
                f"{channel.name}: new key {issued.api_key.masked}. The owner can reveal it in the dashboard.",
                messages.SUCCESS,
            )

    @admin.action(description="Revoke the selected keys now", permissions=["change"])
    def revoke_keys(self, request, queryset):
        count = 0
        for key in queryset:
            if key.is_usable():
                api_key_revoke(api_key=key)
                count += 1
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)


@admin.register(KeyReveal)
class KeyRevealAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "api_key", "action", "ip_address")
    list_filter = ("action", "created_at")
    search_fields = ("user__email", "api_key__channel__name")
    list_select_related = ("user", "api_key")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditRequest)
class CreditRequestAdmin(admin.ModelAdmin):
    """Owners' top-up requests: staff grant (adding the credits, with a CreditGrant record) or decline."""

    list_display = ("created_at", "channel", "requested_by", "amount", "status", "decided_by", "decided_at")
    list_filter = ("status", "created_at")
    search_fields = ("channel__name", "requested_by__email", "=public_id")
    list_select_related = ("channel", "requested_by", "decided_by")
    readonly_fields = ("public_id", "channel", "requested_by", "note", "status", "created_at", "decided_at", "decided_by")
    fields = ("channel", "requested_by", "amount", "note", "status", "created_at", "decided_at", "decided_by", "public_id")
    actions = ["grant", "decline"]

    def has_add_permission(self, request) -> bool:
        return False  # owners ask from the dashboard

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.status == CreditRequest.Status.PENDING)

    def _decide(self, request, queryset, decide, verb: str) -> None:
        done = skipped = 0
        for credit_request in queryset.select_related("channel"):
            try:
                decide(credit_request)
                done += 1
            except CreditRequestDecided:
                skipped += 1
        note = f" ({skipped} were decided already)" if skipped else ""
        self.message_user(request, f"{verb} {done} request(s){note}.", messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Grant the selected requests (adds their credits)", permissions=["change"])
    def grant(self, request, queryset):
        self._decide(request, queryset, lambda r: credit_request_grant(credit_request=r, staff=request.user), "Granted")

    @admin.action(description="Decline the selected requests", permissions=["change"])
    def decline(self, request, queryset):
        self._decide(request, queryset, lambda r: credit_request_decline(credit_request=r, staff=request.user), "Declined")


@admin.register(CreditGrant)
class CreditGrantAdmin(admin.ModelAdmin):
    """The audit trail of credits staff added: read-only."""

    list_display = ("created_at", "channel", "amount", "balance_after", "granted_by", "request")
    list_filter = ("created_at",)
    search_fields = ("channel__name", "granted_by__email")
    list_select_related = ("channel", "granted_by", "request")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# The model catalog's admin lives in its own file; importing it registers it.
from channels_app import admin_catalog  # noqa: E402,F401
