"""The positive paths of single sign-on besides a verified domain's new user: a member who links their own account
(signed in with their password, confirmed the link, went through the provider once) and an invited member, who is
not handed to SSO by address but links the same way. Linking is refused for staff, non-members and a subject
linked to someone else."""

import re

import pytest
from django.contrib.auth import get_user_model

from accounts.testing import WebClient
from teams import services
from teams.models import AuditEntry, Membership, SsoIdentity
from teams.tests.sso_flow import provider_sign_in, provider_sign_out, sso_login, sso_setup

User = get_user_model()


@pytest.fixture
def org(provider, owner, channel):
    return sso_setup(channel.organisation, owner, provider, domains=["acme.com"], verified=["acme.com"])


@pytest.fixture
def browser(gateway_server):
    with WebClient(base_url=gateway_server.url) as client:
        yield client


def link_page(org) -> str:
    return f"/dashboard/org/{org.public_id}/sso/link/"


def link(browser, org, provider_username: str):
    """Confirm the link on the gateway, sign in at the provider; the gateway's callback response."""
    r = browser.submit(link_page(org), {})
    assert r.status_code == 302 and r.headers["location"].startswith(org.sso.issuer), r.text
    return provider_sign_in(browser, r.headers["location"], provider_username)


def test_a_member_links_their_account_and_then_signs_in_with_sso(org, owner, provider, browser):
    bo = User.objects.create_user("bo@partner.example", "bo@partner.example", "pw-bo-123456!")
    services.membership_add(organisation=org, user=bo, role="developer", actor=owner)
    browser.force_login(bo)
    page = browser.get(link_page(org))
    assert page.status_code == 200 and "Link my account" in page.text

    provider.assert_claims("bo-idp", sub="bo-subject", email="robert@acme.com", email_verified=True)
    r = link(browser, org, "bo-idp")
    assert r.status_code == 302 and r.headers["location"] == link_page(org)
    assert "data-sso-linked" in browser.get(link_page(org)).text
    identity = SsoIdentity.objects.get(organisation=org, subject="bo-subject")
    assert identity.user == bo and identity.origin == "linked"
    assert AuditEntry.objects.filter(organisation=org, action="sso.link", actor=bo).exists()

    with WebClient(base_url=browser.base_url) as fresh:
        r = sso_login(fresh, org, "bo-idp")
        assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
        assert fresh.get(f"/dashboard/org/{org.public_id}/members/").status_code == 200
    assert Membership.objects.get(organisation=org, user=bo).role == "developer"  # unchanged by the sign-in
    assert User.objects.filter(email="robert@acme.com").count() == 0  # no second account for the IdP's address


def test_linking_needs_a_fresh_password(org, owner, browser):
    bo = User.objects.create_user("bo@partner.example", "bo@partner.example", "pw-bo-123456!")
    services.membership_add(organisation=org, user=bo, role="analyst", actor=owner)
    browser.force_login(bo, password_age_seconds=3600)
    r = browser.submit(link_page(org), {})
    assert r.status_code == 302 and r.headers["location"].startswith("/accounts/confirm-password/")
    assert not SsoIdentity.objects.exists()


def test_an_invited_member_on_the_verified_domain_keeps_their_account_and_links_it(org, owner_web, mailbox, provider,
                                                                                   browser):
    r = owner_web.submit(f"/dashboard/org/{org.public_id}/invitations/", {"email": "cy@acme.com", "role": "admin"})
    assert r.status_code == 302
    body = mailbox.wait_for("cy@acme.com")[0].get_body(preferencelist=("plain",)).get_content()
    accept = "/" + re.search(r"https?://\S+/invitations/\S+/", body).group(0).split("/", 3)[3]
    r = browser.submit(accept, {"email": "cy@acme.com", "password1": "pw-cy-123456!", "password2": "pw-cy-123456!"})
    assert r.status_code == 302
    cy = User.objects.get(email="cy@acme.com")  # a sign-up, its e-mail not yet confirmed
    assert Membership.objects.get(organisation=org, user=cy).role == "admin"

    # Not handed over by address (nor retired as a squatter: the invitation reached the address)...
    provider.assert_claims("cy-idp", sub="cy-subject", email="cy@acme.com", email_verified=True)
    with WebClient(base_url=browser.base_url) as fresh:
        r = sso_login(fresh, org, "cy-idp")
        assert r.status_code == 403 and "link single sign-on" in r.text
    cy.refresh_from_db()
    assert cy.is_active and cy.check_password("pw-cy-123456!")

    # ...but linked by its owner, then signed in.
    r = link(browser, org, "cy-idp")
    assert r.status_code == 302
    browser.cookies.clear()
    r = sso_login(browser, org, "cy-idp")
    assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
    assert Membership.objects.get(organisation=org, user=cy).role == "admin"


def test_staff_cannot_link(org, owner, staff, staff_web, provider):
    services.membership_add(organisation=org, user=staff, role="analyst", actor=owner)
    provider.assert_claims("staff-idp", sub="staff-subject", email="staff@acme.com", email_verified=True)
    r = link(staff_web, org, "staff-idp")
    assert r.status_code == 403 and "Staff accounts cannot sign in" in r.text
    assert not SsoIdentity.objects.exists()


def test_a_non_member_cannot_link_and_a_subject_linked_to_another_member_is_refused(org, owner, provider, browser,
                                                                                     outsider_web):
    assert outsider_web.get(link_page(org)).status_code == 404
    assert outsider_web.submit(link_page(org), {}).status_code == 404

    bo = User.objects.create_user("bo@partner.example", "bo@partner.example", "pw-bo-123456!")
    services.membership_add(organisation=org, user=bo, role="analyst", actor=owner)
    SsoIdentity.objects.create(organisation=org, issuer=org.sso.issuer, subject="taken", user=owner, origin="linked")
    browser.force_login(bo)
    provider.assert_claims("taken-idp", sub="taken", email="someone@acme.com", email_verified=True)
    r = link(browser, org, "taken-idp")
    assert r.status_code == 403 and "linked to another account" in r.text
    assert SsoIdentity.objects.get(subject="taken").user == owner


def test_a_link_answer_arriving_in_another_persons_session_links_nothing(org, owner, provider, browser):
    """The link started in Bo's session; if the browser is signed in as someone else by the time the answer arrives,
    nothing is linked."""
    bo = User.objects.create_user("bo@partner.example", "bo@partner.example", "pw-bo-123456!")
    services.membership_add(organisation=org, user=bo, role="analyst", actor=owner)
    browser.force_login(bo)
    r = browser.submit(link_page(org), {})
    authorize = r.headers["location"]
    from accounts.session_store import SessionStore

    store = SessionStore(next(c.value for c in browser.cookies.jar if c.name == "sessionid"))
    store["_auth_user_id"] = str(owner.pk)
    store["_auth_user_hash"] = owner.get_session_auth_hash()
    store.save()
    provider.assert_claims("bo-idp2", sub="bo-2", email="x@acme.com", email_verified=True)
    r = provider_sign_in(browser, authorize, "bo-idp2")
    assert r.status_code == 403 and "link single sign-on" in r.text
    assert not SsoIdentity.objects.exists()
    provider_sign_out(browser, provider)
