"""Attacks on single sign-on, each through real HTTP: a browser, the gateway, and an OpenID provider on loopback that
asserts whatever claims the attacker wants (it is the attacker's own provider: they set it as their organisation's
issuer). The takeover of a staff account and of another organisation's owner come first."""

import pytest
from django.contrib.auth import get_user_model

from accounts.testing import WebClient
from gateway.testing.oidc_provider import ABSENT, CLIENT_ID
from teams import services
from teams.models import AuditEntry, Membership, SsoDomain, SsoIdentity
from teams.tests.sso_flow import provider_sign_out, sso_login, sso_setup

User = get_user_model()


@pytest.fixture
def browser(gateway_server):
    with WebClient(base_url=gateway_server.url) as client:
        yield client


@pytest.fixture
def attacker(transactional_db):
    return User.objects.create_user("mallory@evil.example", "mallory@evil.example", "pw-mallory-123!")


@pytest.fixture
def attacker_org(attacker, provider):
    """The attacker's own organisation, its SSO pointed at a provider the attacker controls."""
    org = services.organisation_create(user=attacker, name="Mallory's")
    return sso_setup(org, attacker, provider, domains=["evil.example", "corp.example"], verified=["evil.example"])


def signed_in_as(browser) -> str | None:
    """Whom the browser's gateway session belongs to, as the gateway says (None: not signed in)."""
    r = browser.get("/dashboard/")
    if r.status_code != 200:
        return None
    from accounts.session_store import SessionStore
    from django.contrib.auth import SESSION_KEY

    session = SessionStore(browser.cookies.get("sessionid"))
    return User.objects.get(pk=session[SESSION_KEY]).email


def refused(r, text: str) -> bool:
    return r.status_code == 403 and "data-sso-refused" in r.text and text in r.text


# 1. Any account, staff included, taken over by an asserted e-mail address.

def test_the_staff_superuser_cannot_be_taken_over_through_an_unverified_domain(attacker_org, provider, browser, staff):
    staff.email = staff.username = "root@corp.example"
    staff.save()
    provider.assert_claims("attacker-1", email="root@corp.example", email_verified=True)
    r = sso_login(browser, attacker_org, "attacker-1")
    assert refused(r, "domain may not sign in")
    assert signed_in_as(browser) is None
    assert browser.get("/admin/").status_code == 302


def test_the_staff_superuser_cannot_be_taken_over_even_on_a_verified_domain(attacker_org, attacker, provider, browser, staff):
    """Staff never sign in by SSO: not by address, not by an identity linked to them."""
    staff.email = staff.username = "root@evil.example"
    staff.save()
    provider.assert_claims("attacker-2", email="ROOT@evil.example", email_verified=True)
    assert refused(sso_login(browser, attacker_org, "attacker-2"), "Staff accounts cannot sign in")
    assert signed_in_as(browser) is None and browser.get("/admin/").status_code == 302

    SsoIdentity.objects.create(organisation=attacker_org, issuer=provider.issuer, subject="root-sub", user=staff, origin="linked")
    provider_sign_out(browser, provider)
    provider.assert_claims("attacker-3", sub="root-sub", email="x@evil.example", email_verified=True)
    assert refused(sso_login(browser, attacker_org, "attacker-3"), "Staff accounts cannot sign in")
    assert signed_in_as(browser) is None and browser.get("/admin/").status_code == 302


@pytest.mark.parametrize("asserted", ["alice@corp.example", "ALICE@CORP.EXAMPLE"])
def test_another_organisations_owner_cannot_be_taken_over(attacker_org, provider, browser, asserted):
    alice = User.objects.create_user("alice@corp.example", "alice@corp.example", "pw-alice-123!")
    victim_org = services.organisation_create(user=alice, name="Corp")
    # Even with corp.example verified for the attacker (as if staff were fooled), an existing account is not handed over.
    from teams import sso_domains

    sso_domains.domain_verify(domain=SsoDomain.objects.get(organisation=attacker_org, domain="corp.example"), method="staff")
    provider.assert_claims("attacker-4", email=asserted, email_verified=True)
    r = sso_login(browser, attacker_org, "attacker-4")
    assert refused(r, "An account with this e-mail address exists already")
    assert signed_in_as(browser) is None
    assert browser.get(f"/dashboard/org/{victim_org.public_id}/members/").status_code == 302
    assert not Membership.objects.filter(organisation=attacker_org, user=alice).exists()
    assert not SsoIdentity.objects.filter(user=alice).exists()


def test_a_linked_identity_signs_in_by_its_subject_never_by_the_address_it_asserts(attacker_org, provider, browser, attacker):
    """Bob linked his account to the attacker's organisation's provider once (sub "bob-sub"); another subject that
    asserts Bob's address does not get Bob's account."""
    bob = User.objects.create_user("bob@evil.example", "bob@evil.example", "pw-bob-123!")
    services.membership_add(organisation=attacker_org, user=bob, role="analyst", actor=attacker)
    SsoIdentity.objects.create(organisation=attacker_org, issuer=provider.issuer, subject="bob-sub", user=bob, origin="linked")
    provider.assert_claims("not-bob", sub="someone-else", email="bob@evil.example", email_verified=True)
    assert refused(sso_login(browser, attacker_org, "not-bob"), "exists already")
    assert signed_in_as(browser) is None

    provider_sign_out(browser, provider)
    provider.assert_claims("bob-at-idp", sub="bob-sub", email="bob.other@elsewhere.example", email_verified=True)
    r = sso_login(browser, attacker_org, "bob-at-idp")
    assert r.status_code == 302 and signed_in_as(browser) == "bob@evil.example"


def test_an_identity_of_one_organisation_signs_nobody_in_to_another(attacker_org, provider, browser, owner, channel):
    """The same provider and subject, configured by a second organisation: its link is its own."""
    victim_org = sso_setup(channel.organisation, owner, provider, domains=["victim.example"], verified=["victim.example"])
    SsoIdentity.objects.create(organisation=victim_org, issuer=provider.issuer, subject="owner-sub", user=owner, origin="linked")
    provider.assert_claims("attacker-5", sub="owner-sub", email="x@evil.example", email_verified=True)
    r = sso_login(browser, attacker_org, "attacker-5")
    assert r.status_code == 302
    assert signed_in_as(browser) == "x@evil.example"  # a new account on the attacker's own domain, not the owner


# 2. An account registered before its owner's first SSO sign-in.

def test_a_pre_registered_unconfirmed_account_loses_the_address_and_all_access(provider, owner, channel, web, browser):
    org = sso_setup(channel.organisation, owner, provider, domains=["bigcorp.com"], verified=["bigcorp.com"])
    r = web.submit("/accounts/signup/", {"email": "ceo@bigcorp.com", "password1": "squat-pw-123!", "password2": "squat-pw-123!"})
    assert r.status_code == 302 and signed_in_as(web) == "ceo@bigcorp.com"
    squatter = User.objects.get(email="ceo@bigcorp.com")
    squatter_orgs = list(Membership.objects.filter(user=squatter).values_list("organisation_id", flat=True))

    provider.assert_claims("ceo", email="ceo@bigcorp.com", email_verified=True)
    r = sso_login(browser, org, "ceo")
    assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
    ceo = User.objects.get(email="ceo@bigcorp.com")
    assert ceo.pk != squatter.pk and not ceo.has_usable_password() and signed_in_as(browser) == "ceo@bigcorp.com"

    squatter.refresh_from_db()
    assert not squatter.is_active and not squatter.has_usable_password() and squatter.email != "ceo@bigcorp.com"
    assert not Membership.objects.filter(user=squatter).exists()
    assert web.get("/dashboard/").status_code == 302  # the squatter's session has ended
    web.cookies.clear()
    r = web.submit("/accounts/login/", {"username": "ceo@bigcorp.com", "password": "squat-pw-123!"})
    assert r.status_code == 200 and web.get("/dashboard/").status_code == 302  # the password no longer works
    entry = AuditEntry.objects.get(organisation=org, action="sso.account.retire")
    assert entry.target == "account ceo@bigcorp.com" and entry.changes["sessions"] == [None, "ended"]
    assert AuditEntry.objects.filter(organisation_id__in=squatter_orgs, action="member.remove").count() == len(squatter_orgs)


def test_a_confirmed_account_with_the_address_is_refused_and_kept(provider, owner, channel, browser):
    org = sso_setup(channel.organisation, owner, provider, domains=["example.com"], verified=["example.com"])
    provider.assert_claims("owner-at-idp", email="owner@example.com", email_verified=True)
    assert refused(sso_login(browser, org, "owner-at-idp"), "Sign in with your password, then link")
    owner.refresh_from_db()
    assert owner.is_active and owner.check_password("pw-owner-123!") and signed_in_as(browser) is None


# 3. Requests to the server's own network through the issuer.

def test_an_issuer_on_the_servers_own_network_cannot_be_saved(owner_web, owner, channel, settings):
    settings.SSO_ALLOW_PRIVATE_ISSUERS = False
    org = channel.organisation
    for issuer in ("http://127.0.0.1:8000/o", "http://[::127.0.0.1]/o", "http://[64:ff9b::a9fe:a9fe]/", "http://localhost/"):
        r = owner_web.submit(f"/dashboard/org/{org.public_id}/sso/", {
            "issuer": issuer, "client_id": "gw", "client_secret": "s", "domains": "example.com", "default_role": "analyst"})
        assert r.status_code == 200 and "must be public" in r.text, issuer
    from teams.models import SsoConfig

    assert not SsoConfig.objects.filter(organisation=org).exists() and not SsoDomain.objects.filter(organisation=org).exists()


def test_an_anonymous_login_never_makes_the_server_fetch_a_private_issuer(attacker_org, provider, browser, settings):
    settings.SSO_ALLOW_PRIVATE_ISSUERS = False  # the attacker's provider is on loopback: this server's own network
    r = browser.get(f"/sso/{attacker_org.public_id}/login/")
    assert refused(r, "must be public")


def test_redirects_from_the_issuer_are_not_followed(attacker_org, provider, browser, settings):
    from gateway.testing.webhook_receiver import start_receiver
    from teams.models import SsoConfig

    app, server = start_receiver()
    try:
        app.reset(then="redirect")
        SsoConfig.objects.filter(organisation=attacker_org).update(issuer=server.url)
        assert refused(browser.get(f"/sso/{attacker_org.public_id}/login/"), "could not be reached")
        assert [r["path"] for r in app.received] == ["/.well-known/openid-configuration"]  # /followed never asked
    finally:
        server.stop()


def test_the_token_userinfo_and_jwks_urls_obey_the_address_rule(attacker_org, provider, settings):
    """The discovery document names them; each is checked when fetched, like the issuer."""
    from teams import sso
    from teams.models import SsoConfig

    endpoints = sso.discover(provider.issuer)
    settings.SSO_ALLOW_PRIVATE_ISSUERS = False
    backend = sso.OrganisationOIDCBackend(SsoConfig.objects.get(organisation=attacker_org), endpoints)
    for call in (lambda: backend.get_token({"client_id": CLIENT_ID}), lambda: backend.get_userinfo("t", None, {}),
                 lambda: backend.retrieve_matching_jwk("eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.e30.eA")):
        with pytest.raises(sso.SsoRefused, match="must be public"):
            call()


# 5. Weak claims.

@pytest.mark.parametrize("claims, reason", [
    ({"email_verified": ABSENT}, "no verified e-mail address"),
    ({"email_verified": False}, "no verified e-mail address"),
    ({"email_verified": "true"}, "no verified e-mail address"),
    ({"email_verified": 1}, "no verified e-mail address"),
    ({"email": ABSENT}, "no verified e-mail address"),
    ({"email": ["a@evil.example", "b@evil.example"]}, "no verified e-mail address"),
    ({"email": "x@bigcorp.com@evil.example"}, "not a valid address"),
    ({"email": "x@evil.example@bigcorp.com"}, "not a valid address"),
    ({"email": "x@evil.example\n"}, "not a valid address"),
    ({"email": "evil.example"}, "not a valid address"),
])
def test_weak_or_odd_claims_are_refused_and_make_nothing(attacker_org, provider, browser, claims, reason):
    provider.assert_claims("weak", **{"email": "new@evil.example", "email_verified": True, **claims})
    before = User.objects.count()
    assert refused(sso_login(browser, attacker_org, "weak"), reason)
    assert User.objects.count() == before and signed_in_as(browser) is None


def test_the_domain_is_compared_in_idna_form(provider, owner, channel, browser):
    org = sso_setup(channel.organisation, owner, provider, domains=["bücher.example"], verified=["xn--bcher-kva.example"])
    provider.assert_claims("jo", email="Jo@BÜCHER.example", email_verified=True)
    r = sso_login(browser, org, "jo")
    assert r.status_code == 302 and signed_in_as(browser) == "jo@xn--bcher-kva.example"
