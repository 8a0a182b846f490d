from django.contrib import admin

from alerts.models import Event, FailedJob, WebhookDelivery


@admin.register(FailedJob)
class FailedJobAdmin(admin.ModelAdmin):
    list_display = ("name", "attempts", "failed_at")
    list_filter = ("name",)
    readonly_fields = ("name", "kwargs", "error", "attempts", "failed_at")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("type", "channel", "created_at", "email_sent_at")
    list_filter = ("type",)
    readonly_fields = ("public_id", "channel", "type", "data", "created_at", "email_sent_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "status", "attempts", "response_code", "updated_at")
    list_filter = ("status",)
    readonly_fields = ("public_id", "event", "url", "status", "attempts", "response_code", "error")
