"""Staff admin: who has confirmed their e-mail and who got the starting credits (read-only: the
rules live in accounts/services.py and channels_app/starting_credits.py, not in admin edits)."""

from django.contrib import admin

from accounts.models import EmailConfirmation, StartingCreditGrant


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmailConfirmation)
class EmailConfirmationAdmin(ReadOnly):
    list_display = ("user", "created_at", "last_sent_at", "confirmed_at")
    list_filter = ("confirmed_at",)
    search_fields = ("user__email",)


@admin.register(StartingCreditGrant)
class StartingCreditGrantAdmin(ReadOnly):
    list_display = ("owner", "channel", "amount", "granted_at")
    search_fields = ("owner__email",)
