"""Staff admin for organisations: read mostly. Staff act as operators here, outside the members' policy;
no token digest or SSO ciphertext is shown."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from teams import sso_domains
from teams.credits import organisation_credits_grant
from teams.forms import GrantForm
from teams.models import AuditEntry, Invitation, Membership, Organisation, SsoConfig, SsoDomain, SsoIdentity


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "personal_for", "credits", "audit_retention_days", "created_at")
    search_fields = ("name", "=public_id", "memberships__user__email")
    # The balance changes only through the grant (audited) and the members' moves.
    readonly_fields = ("public_id", "credits", "created_at")
    raw_id_fields = ("personal_for",)
    inlines = [MembershipInline]
    actions = ["grant_credits"]

    @admin.action(description="Grant credits to the selected organisations", permissions=["change"])
    def grant_credits(self, request, queryset):
        form = GrantForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            amount = form.cleaned_data["amount"]
            for organisation in queryset:
                organisation_credits_grant(organisation=organisation, amount=amount, staff=request.user, request=request)
            self.message_user(request, f"Granted {amount:,} credits to {queryset.count()} organisation(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Grant credits",
            "form": form,
            "organisations": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/teams/organisation/grant_credits.html", context)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "organisation", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    search_fields = ("email", "organisation__name")
    fields = ("organisation", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # invitations are mailed from the members page, which makes the token


@admin.register(SsoConfig)
class SsoConfigAdmin(admin.ModelAdmin):
    list_display = ("organisation", "issuer", "client_id", "sso_required", "updated_at")
    fields = ("organisation", "issuer", "client_id", "default_role", "sso_required", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # owners set it, with the secret, on the organisation's SSO page


@admin.register(SsoDomain)
class SsoDomainAdmin(admin.ModelAdmin):
    """Staff may verify a domain they have checked belongs to the organisation (e.g. from a contract), or take
    a verification back; owners claim domains on their SSO page."""

    list_display = ("domain", "organisation", "verified_at", "verified_by", "created_at")
    list_filter = ("verified_by",)
    search_fields = ("domain", "organisation__name")
    fields = ("organisation", "domain", "verified_at", "verified_by", "created_at")
    readonly_fields = fields
    actions = ["verify", "unverify"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Verify the selected domains (staff checked who owns them)")
    def verify(self, request, queryset):
        for domain in queryset:
            try:
                sso_domains.domain_verify(domain=domain, method=SsoDomain.Method.STAFF, actor=request.user, request=request)
            except sso_domains.DomainTaken as exc:
                self.message_user(request, str(exc), level="error")

    @admin.action(description="Take the verification back")
    def unverify(self, request, queryset):
        for domain in queryset:
            sso_domains.domain_unverify(domain=domain, actor=request.user, request=request)


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    list_display = ("subject", "issuer", "user", "organisation", "origin", "created_at")
    search_fields = ("subject", "user__email", "organisation__name")
    fields = ("organisation", "issuer", "subject", "user", "origin", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organisation", "actor_email", "action", "target", "ip_address")
    list_filter = ("action",)
    search_fields = ("actor_email", "organisation__name", "target")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the log's retention deletes; people do not
