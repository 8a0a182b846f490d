"""SSO domains are claimed, then verified: by the DNS TXT record the SSO page shows (a real DNS server on loopback,
looked up with dnspython), by staff in the admin, or with `manage.py sso_domains`. A domain verified by one
organisation cannot be claimed or verified by another; an unverified domain signs nobody in."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.testing import WebClient
from teams import services, sso_domains
from teams.models import AuditEntry, SsoDomain
from teams.tests.sso_flow import sso_login, sso_setup

User = get_user_model()


@pytest.fixture
def browser(gateway_server):
    with WebClient(base_url=gateway_server.url) as client:
        yield client


@pytest.fixture
def org(provider, owner, channel):
    return sso_setup(channel.organisation, owner, provider, domains=["acme.example"], verified=[])


def sso_page(org) -> str:
    return f"/dashboard/org/{org.public_id}/sso/"


def test_an_unverified_domain_signs_nobody_in(org, provider, browser):
    provider.assert_claims("ana", email="ana@acme.example", email_verified=True)
    r = sso_login(browser, org, "ana")
    assert r.status_code == 403 and "domain may not sign in" in r.text
    assert not User.objects.filter(email="ana@acme.example").exists()


def test_the_dns_txt_record_shown_on_the_page_verifies_the_domain(org, owner_web, dns, provider, browser):
    page = owner_web.get(sso_page(org)).text
    value = re.search(r"data-record-value>([^<]+)<", page).group(1)
    assert "_ai-gateway-sso.acme.example" in page and value.startswith("ai-gateway-sso-verification=")
    domain = SsoDomain.objects.get(organisation=org)
    check = f"/dashboard/org/{org.public_id}/sso/domains/{domain.pk}/check/"

    dns.records["_ai-gateway-sso.acme.example"] = ["ai-gateway-sso-verification=someone-elses-token", "v=spf1 -all"]
    r = owner_web.submit(check, {})
    assert r.status_code == 302 and "was not found" in owner_web.get(sso_page(org)).text
    assert SsoDomain.objects.get(pk=domain.pk).verified_at is None
    assert "_ai-gateway-sso.acme.example" in dns.queries  # asked the DNS server, for real

    dns.records["_ai-gateway-sso.acme.example"] = ["v=spf1 -all", value]
    assert owner_web.submit(check, {}).status_code == 302
    domain.refresh_from_db()
    assert domain.verified_at is not None and domain.verified_by == "dns"
    assert "data-verified" in owner_web.get(sso_page(org)).text
    assert AuditEntry.objects.filter(organisation=org, action="sso.domain.verify", target="domain acme.example").exists()

    provider.assert_claims("ana", email="ana@acme.example", email_verified=True)
    assert sso_login(browser, org, "ana").status_code == 302  # now it signs new people in


def test_a_member_who_is_not_the_owner_cannot_check_a_domain(org, owner, web, dns):
    dev = User.objects.create_user("dev@acme.example", "dev@acme.example", "pw-dev-123456!")
    services.membership_add(organisation=org, user=dev, role="admin", actor=owner)
    web.force_login(dev)
    domain = SsoDomain.objects.get(organisation=org)
    dns.records["_ai-gateway-sso.acme.example"] = [sso_domains.record_value(domain)]
    assert web.submit(f"/dashboard/org/{org.public_id}/sso/domains/{domain.pk}/check/", {}).status_code == 403
    assert SsoDomain.objects.get(pk=domain.pk).verified_at is None


def test_a_domain_verified_by_one_organisation_cannot_be_claimed_or_verified_by_another(org, owner, dns, provider, web,
                                                                                         settings):
    sso_domains.domain_verify(domain=SsoDomain.objects.get(organisation=org), method="command")
    mallory = User.objects.create_user("mallory@evil.example", "mallory@evil.example", "pw-mallory-123!")
    other = services.organisation_create(user=mallory, name="Mallory's")
    web.force_login(mallory)
    r = web.submit(sso_page(other), {"issuer": provider.issuer, "client_id": "gw", "client_secret": "s",
                                     "domains": "evil.example, ACME.example", "default_role": "analyst"})
    assert r.status_code == 200 and "is verified by another organisation" in r.text
    assert not SsoDomain.objects.filter(organisation=other).exists()  # nothing half-saved

    # A claim made before the first organisation verified it cannot be verified afterwards, by DNS or command.
    claim = SsoDomain.objects.create(organisation=other, domain="acme.example", verification_token="abc")
    dns.records["_ai-gateway-sso.acme.example"] = [sso_domains.record_value(claim)]
    with pytest.raises(sso_domains.DomainTaken):
        sso_domains.domain_check_dns(domain=claim)
    with pytest.raises(CommandError, match="verified by another organisation"):
        call_command("sso_domains", "verify", str(other.public_id), "acme.example")
    assert SsoDomain.objects.get(pk=claim.pk).verified_at is None


def test_the_command_lists_verifies_and_unverifies(org):
    out = io.StringIO()
    call_command("sso_domains", "list", str(org.public_id), stdout=out)
    assert "acme.example  claimed" in out.getvalue()
    call_command("sso_domains", "verify", str(org.pk), "ACME.example.", stdout=out)
    assert SsoDomain.objects.get(organisation=org).verified_by == "command"
    out = io.StringIO()
    call_command("sso_domains", "list", stdout=out)
    assert "acme.example  verified (command" in out.getvalue()
    call_command("sso_domains", "unverify", str(org.public_id), "acme.example", stdout=out)
    assert SsoDomain.objects.get(organisation=org).verified_at is None
    with pytest.raises(CommandError, match="has not claimed"):
        call_command("sso_domains", "verify", str(org.public_id), "other.example")
    with pytest.raises(CommandError, match="No organisation"):
        call_command("sso_domains", "verify", "00000000-0000-0000-0000-000000000000", "acme.example")
    assert [e.action for e in AuditEntry.objects.filter(organisation=org, action__startswith="sso.domain.v")] \
        == ["sso.domain.verify"]
    assert AuditEntry.objects.filter(organisation=org, action="sso.domain.unverify").exists()


def test_staff_verify_a_domain_in_the_admin(org, staff_web):
    domain = SsoDomain.objects.get(organisation=org)
    listing = staff_web.get("/admin/teams/ssodomain/")
    assert listing.status_code == 200 and "acme.example" in listing.text
    r = staff_web.submit("/admin/teams/ssodomain/", {"action": "verify", "_selected_action": [str(domain.pk)]})
    assert r.status_code == 302
    domain.refresh_from_db()
    assert domain.verified_by == "staff" and domain.verified_at is not None
    entry = AuditEntry.objects.get(organisation=org, action="sso.domain.verify")
    assert entry.actor_email == "staff@example.com"
