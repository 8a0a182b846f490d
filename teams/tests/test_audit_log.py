"""The organisation audit log: each change by a person, on the page and in the CSV, never a secret."""

import csv
import datetime as dt
import io

from django.utils import timezone

from dashboard.tests.test_dashboard_channel_edit import settings_form
from teams import audit
from teams.models import AuditEntry
from teams.tests.worlds import make_user

ACTIONS = [
    "channel.settings", "key.reveal", "key.rotate", "key.revoke", "widget.origins", "widget.settings",
    "widget.key.create", "widget.key.rotate", "widget.key.revoke", "credits.request", "conversations.erase",
    "invitation.create", "invitation.resend", "invitation.revoke", "member.add", "member.role", "member.remove",
    "sso.update",
]


def _do_everything(web, owner, channel, key):
    from channels_app.models import PublishableKey
    from teams.services import membership_add

    base = f"/dashboard/channels/{channel.public_id}"
    org = channel.organisation
    assert web.submit(f"{base}/edit/", settings_form(channel, name="Renamed", daily_limit="200")).status_code == 302
    api_key = channel.api_keys.get()
    assert web.submit(f"{base}/keys/{api_key.public_id}/reveal/", headers={"Accept": "application/json"}).status_code == 200
    assert web.submit(f"{base}/keys/rotate/", {"grace": "1h"}).status_code == 302
    assert web.submit(f"{base}/keys/{api_key.public_id}/revoke/").status_code == 302
    assert web.submit(f"{base}/widget/origins/", {"allowed_origins": "https://shop.example"}).status_code == 302
    assert web.submit(f"{base}/widget/settings/", {"widget_title": "Ask us", "widget_greeting": "Hi", "widget_color": "#112233",
                                                    "visitor_rate_limit_per_minute": "10", "visitor_daily_limit": "50",
                                                    "visitor_ip_daily_limit": "20", "visitor_ip_rate_limit_per_minute": "20",
                                                    "widget_share_percent": "20"}).status_code == 302
    assert web.submit(f"{base}/widget/key/create/").status_code == 302
    assert web.submit(f"{base}/widget/key/rotate/", {"grace": "none"}).status_code == 302
    widget_key = PublishableKey.objects.filter(channel=channel, revoked_at__isnull=True).get()
    assert web.submit(f"{base}/widget/key/{widget_key.public_id}/revoke/").status_code == 302
    assert web.submit(f"{base}/credits/request/", {"amount": "500"}).status_code == 302
    assert web.submit(f"{base}/conversations/erase/", {"session_id": "nobody", "source": "api"}).status_code == 302
    o = f"/dashboard/org/{org.public_id}"
    assert web.submit(f"{o}/invitations/", {"email": "new@example.com", "role": "analyst"}).status_code == 302
    invitation = org.invitations.get()
    assert web.submit(f"{o}/invitations/{invitation.public_id}/resend/").status_code == 302
    assert web.submit(f"{o}/invitations/{invitation.public_id}/revoke/").status_code == 302
    member = membership_add(organisation=org, user=make_user("dev@example.com"), role="developer", actor=owner)
    assert web.submit(f"{o}/members/{member.public_id}/role/", {"role": "admin"}).status_code == 302
    assert web.submit(f"{o}/members/{member.public_id}/remove/").status_code == 302
    assert web.submit(f"{o}/sso/", {"issuer": "https://login.example.com/", "client_id": "gw", "client_secret": "sso-secret-XYZ",
                                    "domains": "example.com", "default_role": "analyst"}).status_code == 302
    return org


def test_the_log_shows_each_change_with_who_when_where_and_what_and_exports_it_without_secrets(owner_web, owner, channel_and_key, mailbox,
                                                                                              settings):
    settings.SSO_ALLOW_PRIVATE_ISSUERS = True  # the tests have no DNS to resolve login.example.com with
    channel, issued = channel_and_key
    org = _do_everything(owner_web, owner, channel, issued)

    entries = {e.action: e for e in AuditEntry.objects.filter(organisation=org)}
    assert set(ACTIONS) <= set(entries)
    assert all(e.actor_email == "owner@example.com" for e in entries.values() if e.action != "member.add")
    assert entries["key.reveal"].ip_address == "127.0.0.1" and entries["key.reveal"].target.endswith(issued.api_key.masked)
    assert entries["channel.settings"].changes == {"daily_limit": [1000, 200], "name": ["Test site", "Renamed"]}
    assert entries["member.role"].changes == {"role": ["developer", "admin"]}
    assert entries["widget.origins"].changes == {"allowed_origins": [[], ["https://shop.example"]]}
    assert entries["sso.update"].changes["client_secret"] == ["…", "changed"]

    page = owner_web.get(f"/dashboard/org/{org.public_id}/audit/")
    assert page.status_code == 200
    for action in ACTIONS:
        assert f'data-audit="{action}"' in page.text
    exported = owner_web.get(f"/dashboard/org/{org.public_id}/audit/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert set(ACTIONS) <= {row["action"] for row in rows}
    for text in (page.text, exported.text):
        assert issued.plaintext not in text and "sso-secret-XYZ" not in text


def test_it_filters_by_action_and_by_who(owner_web, owner, channel):
    org = channel.organisation
    audit.record(organisation=org, actor=owner, action="key.reveal", target="channel a")
    other = make_user("someone@example.com")
    audit.record(organisation=org, actor=other, action="member.role", target="member b")
    url = f"/dashboard/org/{org.public_id}/audit/"
    by_action = owner_web.get(url, params={"action": "key"}).text
    assert 'data-audit="key.reveal"' in by_action and 'data-audit="member.role"' not in by_action
    by_who = owner_web.get(f"{url}export.csv", params={"actor": "someone@example.com"}).text
    assert [row["action"] for row in csv.DictReader(io.StringIO(by_who))] == ["member.role"]


def test_a_csv_cell_that_a_spreadsheet_would_run_is_defused(owner_web, owner, channel):
    org = channel.organisation
    audit.record(organisation=org, actor=owner, action="channel.settings", target="=HYPERLINK(\"http://evil\")")
    rows = list(csv.DictReader(io.StringIO(owner_web.get(f"/dashboard/org/{org.public_id}/audit/export.csv").text)))
    assert rows[0]["target"].startswith("'=")


def test_entries_older_than_the_organisations_retention_are_purged(owner, channel):
    from conversations.engine.retention import purge_all

    org = channel.organisation
    org.audit_retention_days = 30
    org.save()
    old = audit.record(organisation=org, actor=owner, action="key.reveal")
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    recent = audit.record(organisation=org, actor=owner, action="key.rotate")
    assert purge_all()["audit_entries"] == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]


def test_staff_read_the_teams_admin_pages_without_secrets(staff_web, owner, channel):
    from teams.invitations import invitation_create
    from teams.models import Invitation, Organisation

    org = channel.organisation
    sso_save_secret = "admin-must-not-show-this"
    from teams.sso_services import sso_save

    sso_save(organisation=org, actor=owner, client_secret=sso_save_secret, issuer="https://login.example.com/",
             client_id="gw", domains=["example.com"], default_role="analyst", sso_required=False)
    invitation_create(organisation=org, email="x@example.com", role="analyst", actor=owner, link_for=str)
    audit.record(organisation=org, actor=owner, action="key.reveal")
    invitation = Invitation.objects.get()
    for url in ("/admin/teams/organisation/", f"/admin/teams/organisation/{Organisation.objects.get(pk=org.pk).pk}/change/",
                "/admin/teams/invitation/", f"/admin/teams/invitation/{invitation.pk}/change/", "/admin/teams/ssoconfig/",
                f"/admin/teams/ssoconfig/{org.sso.pk}/change/", "/admin/teams/auditentry/"):
        r = staff_web.get(url)
        assert r.status_code == 200, url
        assert sso_save_secret not in r.text and invitation.token_digest not in r.text
