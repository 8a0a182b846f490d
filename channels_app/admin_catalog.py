"""Staff admin for the model catalog: providers (their key write-only) and models (retire, attention).

A provider's key is typed into a password field and sealed at once; the
admin shows only its last four characters and when it was set. Leaving the
field empty keeps the key; "remove key" deletes it. Rotating is typing a new one.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from channels_app import model_retirement
from channels_app.providers import catalog_sync
from channels_app.providers.catalog import CAPABILITIES
from channels_app.providers.catalog_models import AiModel, OwnerNotice, Provider


class ProviderForm(forms.ModelForm):
    base_url = forms.URLField(
        label="Base URL", required=False, max_length=300, assume_scheme="https",
        help_text=Provider._meta.get_field("base_url").help_text,
    )
    new_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Sealed at once and never shown again. Empty: keep the current key. Type a new one to rotate it.",
    )
    remove_key = forms.BooleanField(label="Remove the key", required=False)

    class Meta:
        model = Provider
        fields = ("name", "from_environment", "base_url", "connect_timeout", "read_timeout", "total_timeout", "enabled")


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = ("name", "source", "key", "enabled", "model_count", "listing", "updated_at")
    list_filter = ("enabled", "from_environment")
    search_fields = ("name",)
    readonly_fields = ("key", "key_set_at", "listing", "created_at", "updated_at")
    actions = ["sync_models"]
    fieldsets = (
        (None, {"fields": ("name", "from_environment", "base_url", "enabled")}),
        ("Its model list (GET /models)", {"fields": ("listing",)}),
        ("Key", {"fields": ("key", "key_set_at", "new_key", "remove_key")}),
        ("Timeouts (seconds; empty: the LLM_* settings)", {"fields": ("connect_timeout", "read_timeout", "total_timeout")}),
        (None, {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(model_total=Count("models"))

    @admin.display(description="URL")
    def source(self, obj: Provider) -> str:
        return "LLM_BASE_URL (environment)" if obj.from_environment else obj.base_url

    @admin.display(description="Key")
    def key(self, obj: Provider) -> str:
        if obj.from_environment:
            return "LLM_API_KEY (environment)"
        return f"••••••••{obj.key_hint}" if obj.key_ciphertext else "none"

    @admin.display(description="Models", ordering="model_total")
    def model_count(self, obj) -> int:
        return obj.model_total

    @admin.display(description="Model list")
    def listing(self, obj: Provider) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:channels_app_provider_models", args=[obj.pk])
        if obj.models_check_error:
            return format_html('<a href="{}">⚠ could not be read</a>', url)
        if obj.models_checked_at is None:
            return "not checked"
        return format_html('<a href="{}">{} not in the catalog</a>', url, len(obj.models_missing))

    @admin.action(description="Check models against the provider's list (GET /models)", permissions=["change"])
    def sync_models(self, request, queryset):
        for provider in queryset:
            result = catalog_sync.provider_sync(provider)
            if result.skipped:
                self.message_user(request, f"{provider.name}: skipped ({result.skipped}).", messages.WARNING)
            elif result.error:
                self.message_user(request, f"{provider.name}: its model list could not be read: {result.error}", messages.ERROR)
            else:
                gone = f" No longer listed (flagged): {', '.join(result.gone)}." if result.gone else ""
                self.message_user(
                    request, f"{provider.name} lists {result.listed} model(s); {len(result.missing)} not in the catalog.{gone}",
                    messages.WARNING if result.gone else messages.SUCCESS,
                )

    def get_urls(self):
        own = [path("<int:pk>/models/", self.admin_site.admin_view(self.models_view), name="channels_app_provider_models")]
        return own + super().get_urls()

    def models_view(self, request, pk: int):
        """The provider's models the catalog lacks, each added with one click (POST model_id)."""
        provider = get_object_or_404(Provider, pk=pk)
        if not self.has_view_permission(request, provider):
            raise PermissionDenied
        if request.method == "POST":
            if not (self.has_change_permission(request, provider) and request.user.has_perm("channels_app.add_aimodel")):
                raise PermissionDenied
            try:
                model = catalog_sync.model_add_from_listing(provider=provider, model_id=request.POST.get("model_id", ""))
            except catalog_sync.CannotAdd as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return redirect("admin:channels_app_provider_models", pk=provider.pk)
            self.message_user(request, f"{model.slug} added: set its prices and capabilities.", messages.WARNING)
            return redirect("admin:channels_app_aimodel_change", model.pk)
        context = {**self.admin_site.each_context(request), "title": f"Models of {provider.name}", "provider": provider,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/channels_app/provider/models.html", context)

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("remove_key"):
            obj.set_key("")
        elif form.cleaned_data.get("new_key"):
            obj.set_key(form.cleaned_data["new_key"])
        super().save_model(request, obj, form, change)


CAPABILITY_LABELS = {
    "supports_streaming": "stream", "supports_tools": "tools", "supports_json_object": "JSON",
    "supports_json_schema": "schema", "supports_reasoning": "reasoning", "supports_vision": "vision",
}


class AttentionFilter(admin.SimpleListFilter):
    title = "attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "Provider says it is gone")]

    def queryset(self, request, queryset):
        return queryset.exclude(attention="") if self.value() == "yes" else queryset


@admin.register(AiModel)
class AiModelAdmin(admin.ModelAdmin):
    list_display = (
        "slug", "name", "provider", "lifecycle", "replacement", "prices", "capabilities",
        "channel_count", "flag",
    )
    list_filter = ("status", AttentionFilter, "provider", "supports_reasoning", "supports_tools")
    search_fields = ("slug", "name", "upstream_id")
    list_select_related = ("provider", "replacement")
    readonly_fields = ("attention", "attention_at", "created_at", "updated_at")
    actions = ["retire", "clear_attention"]
    fieldsets = (
        (None, {"fields": ("slug", "name", "provider", "upstream_id", "position")}),
        ("Limits and prices", {"fields": ("context_window", "max_output", "input_price", "output_price")}),
        ("Shown to owners", {"fields": ("speed", "best_for")}),
        ("Capabilities (per the provider's documentation)", {"fields": (*CAPABILITIES, "reasoning_effort")}),
        ("Lifecycle", {"fields": ("status", "retires_on", "replacement", "attention", "attention_at")}),
        (None, {"fields": ("created_at", "updated_at")}),
    )

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        from channels_app.models import Channel

        slugs = [m.slug for m in changelist.result_list]
        counts = {}
        for row in Channel.objects.filter(Q(model__in=slugs) | Q(fallback_model__in=slugs)).values("model", "fallback_model"):
            for slug in {row["model"], row["fallback_model"]}:
                counts[slug] = counts.get(slug, 0) + 1
        for model in changelist.result_list:
            model.channel_total = counts.get(model.slug, 0)
        return changelist

    @admin.display(description="Status", ordering="status")
    def lifecycle(self, obj: AiModel) -> str:
        # One column for the status and its day, so the list fits at 1280 px beside the filters.
        if obj.retires_on is not None and obj.status != AiModel.Status.ACTIVE:
            return f"{obj.get_status_display()} ({obj.retires_on:%Y-%m-%d})"
        return obj.get_status_display()

    @admin.display(description="$ / 1M in / out")
    def prices(self, obj: AiModel) -> str:
        return f"{obj.input_price:.2f} / {obj.output_price:.2f}"

    @admin.display(description="Can")
    def capabilities(self, obj: AiModel) -> str:
        return ", ".join(CAPABILITY_LABELS[name] for name in CAPABILITIES if getattr(obj, name)) or "—"

    @admin.display(description="Channels")
    def channel_count(self, obj) -> int:
        return getattr(obj, "channel_total", 0)

    @admin.display(description="Attention")
    def flag(self, obj: AiModel) -> str:
        if not obj.attention:
            return ""
        return format_html('<span title="{}">⚠ provider says gone</span>', obj.attention[:300])

    @admin.action(description="Retire: move their channels to the replacement and tell the owners", permissions=["change"])
    def retire(self, request, queryset):
        for model in queryset.select_related("replacement"):
            try:
                moved = model_retirement.model_retire(model=model)
            except model_retirement.CannotRetire as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(
                request, f"{model.slug} retired; {len(moved)} channel(s) moved to {model.replacement.slug}.", messages.SUCCESS
            )

    @admin.action(description="Clear the attention flag", permissions=["change"])
    def clear_attention(self, request, queryset):
        queryset.update(attention="", attention_at=None)


@admin.register(OwnerNotice)
class OwnerNoticeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "owner", "channel", "text", "dismissed_at")
    list_select_related = ("owner", "channel")
    raw_id_fields = ("owner", "channel")
    search_fields = ("owner__email", "=channel__public_id")
    readonly_fields = ("created_at",)
