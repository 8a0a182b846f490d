"""Staff see every channel's knowledge sources, read-only: owners change them on the dashboard."""

from django.contrib import admin

from knowledge.models import Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("title", "channel", "kind", "status", "pages", "chunks", "refreshed_at")
    list_filter = ("kind", "status")
    search_fields = ("title", "url", "channel__name")
    list_select_related = ("channel",)
    exclude = ("file_data",)  # an owner's uploaded file: its extracted text is what staff may need
    readonly_fields = ("channel", "kind", "title", "url", "max_pages", "path_prefix", "text", "file_name", "status",
                       "error", "pages", "chunks", "chars", "created_at", "refreshed_at")

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("file_data")
