"""Single sign-on against a real OpenID provider on loopback (django-oauth-toolkit, gateway/testing/oidc_provider.py):
a new user on a verified domain logs in; a wrong audience, an expired token and a disallowed domain are refused;
the client secret is stored encrypted; "SSO required" stops passwords on a verified domain."""

import io
import secrets

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.testing import WebClient
from gateway.testing.oidc_provider import CLIENT_SECRET
from teams import sso_secret
from teams.models import AuditEntry, Membership, SsoConfig
from teams.tests.sso_flow import sso_login, sso_setup


@pytest.fixture
def org(provider, owner, channel):
    return sso_setup(channel.organisation, owner, provider)


@pytest.fixture
def browser(gateway_server):
    with WebClient(base_url=gateway_server.url) as client:
        yield client


def test_a_new_user_logs_in_becomes_a_member_with_the_default_role_and_sees_the_organisation(org, browser, channel):
    r = sso_login(browser, org, "ana@acme.example")
    assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
    user = get_user_model().objects.get(email="ana@acme.example")
    assert not user.has_usable_password()
    assert Membership.objects.get(organisation=org, user=user).role == "analyst"
    assert channel.name in browser.get("/dashboard/").text
    assert AuditEntry.objects.filter(organisation=org, action="member.add", changes__via=[None, "sso"]).exists()
    # The second time, the same account.
    browser.cookies.clear()
    assert sso_login(browser, org, "ana@acme.example").status_code == 302
    assert get_user_model().objects.filter(email="ana@acme.example").count() == 1


@pytest.mark.parametrize(
    "email, reason",
    [
        ("wrongaud@acme.example", "issued for another application"),
        ("expired@acme.example", "token has expired"),
        ("mallory@evil.example", "domain may not sign in"),
    ],
)
def test_it_refuses_a_wrong_audience_an_expired_token_and_a_disallowed_domain(org, browser, email, reason):
    r = sso_login(browser, org, email)
    assert r.status_code == 403 and reason in r.text
    assert not get_user_model().objects.filter(email=email).exists()
    assert browser.get("/dashboard/").status_code == 302  # not logged in


def test_a_callback_without_a_started_login_is_refused(org, browser):
    r = browser.get("/sso/callback/?code=x&state=y")
    assert r.status_code == 403 and "No sign-in was started" in r.text


def test_the_client_secret_is_stored_encrypted_and_never_shown(org, owner_web):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM teams_ssoconfig")
        assert CLIENT_SECRET not in repr(cursor.fetchall())
    config = SsoConfig.objects.get(organisation=org)
    assert sso_secret.decrypt(config.client_secret_ciphertext, org.public_id) == CLIENT_SECRET
    page = owner_web.get(f"/dashboard/org/{org.public_id}/sso/")
    assert page.status_code == 200 and CLIENT_SECRET not in page.text and "data-secret-stored" in page.text


def test_when_sso_is_required_a_member_of_a_verified_domain_cannot_log_in_with_a_password(org, owner, web):
    from teams.services import membership_add

    member = get_user_model().objects.create_user("bo@acme.example", "bo@acme.example", "pw-bo-123456!")
    membership_add(organisation=org, user=member, role="developer", actor=owner)
    assert web.submit("/accounts/login/", {"username": "bo@acme.example", "password": "pw-bo-123456!"}).status_code == 302
    web.cookies.clear()
    SsoConfig.objects.filter(organisation=org).update(sso_required=True)
    r = web.submit("/accounts/login/", {"username": "bo@acme.example", "password": "pw-bo-123456!"})
    assert r.status_code == 200  # the form again, not a session
    assert web.get("/dashboard/").status_code == 302

    # A domain that is only claimed requires nothing: another organisation cannot lock people out by claiming it.
    from teams.models import SsoDomain

    SsoDomain.objects.filter(organisation=org).update(verified_at=None, verified_by="")
    assert web.submit("/accounts/login/", {"username": "bo@acme.example", "password": "pw-bo-123456!"}).status_code == 302


def test_after_a_key_rotation_the_client_secret_opens_and_sso_works_with_the_new_key_alone(org, browser, settings):
    before = bytes(SsoConfig.objects.get(organisation=org).client_secret_ciphertext)
    settings.KEY_ENCRYPTION_KEY, settings.KEY_ENCRYPTION_KEYS_OLD = secrets.token_bytes(32), [settings.KEY_ENCRYPTION_KEY]
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "1 SSO client secret(s) re-encrypted." in out.getvalue() and CLIENT_SECRET not in out.getvalue()

    settings.KEY_ENCRYPTION_KEYS_OLD = []  # the old key is gone
    config = SsoConfig.objects.get(organisation=org)
    assert bytes(config.client_secret_ciphertext) != before
    assert sso_secret.decrypt(config.client_secret_ciphertext, org.public_id) == CLIENT_SECRET
    r = sso_login(browser, org, "ana@acme.example")  # the provider checks the secret at its token endpoint
    assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
