"""An organisation's pages under /dashboard/org/, addressed by its public id, in the `teams` namespace (the URL names
templates use): its members, invitations, settings and audit log, single sign-on's settings, its credits moved to
channels, its usage and its activity log."""

from django.urls import path

from dashboard import (
    activity_views,
    audit_views,
    organisation_credit_views,
    organisation_usage_views,
    sso_settings_views,
    team_views,
)
from teams import sso_views

app_name = "teams"

urlpatterns = [
    path("new/", team_views.org_new, name="org-new"),
    path("<uuid:org_id>/switch/", team_views.org_switch, name="org-switch"),
    path("<uuid:org_id>/members/", team_views.members, name="members"),
    path("<uuid:org_id>/settings/", team_views.org_settings, name="settings"),
    path("<uuid:org_id>/members/<uuid:member_id>/role/", team_views.member_role, name="member-role"),
    path("<uuid:org_id>/members/<uuid:member_id>/remove/", team_views.member_remove, name="member-remove"),
    path("<uuid:org_id>/leave/", team_views.leave, name="leave"),
    path("<uuid:org_id>/invitations/", team_views.invite, name="invite"),
    path("<uuid:org_id>/invitations/<uuid:invitation_id>/resend/", team_views.invitation_resend_view, name="invitation-resend"),
    path("<uuid:org_id>/invitations/<uuid:invitation_id>/revoke/", team_views.invitation_revoke_view, name="invitation-revoke"),
    path("<uuid:org_id>/audit/", audit_views.audit_log, name="audit"),
    path("<uuid:org_id>/audit/export.csv", audit_views.audit_export, name="audit-export"),
    path("<uuid:org_id>/sso/", sso_settings_views.sso_settings, name="sso"),
    path("<uuid:org_id>/sso/domains/<int:domain_id>/check/", sso_settings_views.sso_domain_check, name="sso-domain-check"),
    path("<uuid:org_id>/sso/link/", sso_views.sso_link, name="sso-link"),
    path("<uuid:org_id>/credits/", organisation_credit_views.org_credits, name="credits"),
    path("<uuid:org_id>/usage/", organisation_usage_views.org_usage, name="usage"),
    path("<uuid:org_id>/activity/", activity_views.organisation_activity, name="activity"),
    path("<uuid:org_id>/activity/export.csv", activity_views.organisation_activity_export, name="activity-export"),
]
