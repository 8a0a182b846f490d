"""Organisation pages under /dashboard/org/, addressed by the organisation's public id (gateway/urls.py adds the
activity pages of conversations/organisation_urls.py and the credits and usage pages of dashboard/organisation_urls.py
to this namespace)."""

from django.urls import path

from teams import audit_views, sso_views, views

app_name = "teams"

urlpatterns = [
    path("new/", views.org_new, name="org-new"),
    path("<uuid:org_id>/switch/", views.org_switch, name="org-switch"),
    path("<uuid:org_id>/members/", views.members, name="members"),
    path("<uuid:org_id>/settings/", views.org_settings, name="settings"),
    path("<uuid:org_id>/members/<uuid:member_id>/role/", views.member_role, name="member-role"),
    path("<uuid:org_id>/members/<uuid:member_id>/remove/", views.member_remove, name="member-remove"),
    path("<uuid:org_id>/leave/", views.leave, name="leave"),
    path("<uuid:org_id>/invitations/", views.invite, name="invite"),
    path("<uuid:org_id>/invitations/<uuid:invitation_id>/resend/", views.invitation_resend_view, name="invitation-resend"),
    path("<uuid:org_id>/invitations/<uuid:invitation_id>/revoke/", views.invitation_revoke_view, name="invitation-revoke"),
    path("<uuid:org_id>/audit/", audit_views.audit_log, name="audit"),
    path("<uuid:org_id>/audit/export.csv", audit_views.audit_export, name="audit-export"),
    path("<uuid:org_id>/sso/", sso_views.sso_settings, name="sso"),
    path("<uuid:org_id>/sso/domains/<int:domain_id>/check/", sso_views.sso_domain_check, name="sso-domain-check"),
    path("<uuid:org_id>/sso/link/", sso_views.sso_link, name="sso-link"),
]
