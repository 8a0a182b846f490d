"""Helpers for the SSO tests: an organisation's SSO set up against the loopback provider, and the whole code flow
as a browser follows it (gateway → provider sign-in → provider → gateway callback)."""

from urllib.parse import urljoin

from gateway.testing.oidc_provider import CLIENT_ID, CLIENT_SECRET, PASSWORD
from teams import sso_domains
from teams.models import SsoDomain
from teams.sso_services import sso_save


def sso_setup(org, owner, provider, *, domains=("acme.example",), verified=("acme.example",), sso_required=False):
    sso_save(
        organisation=org, actor=owner, client_secret=CLIENT_SECRET, issuer=provider.issuer, client_id=CLIENT_ID,
        domains=list(domains), default_role="analyst", sso_required=sso_required,
    )
    for name in verified:
        sso_domains.domain_verify(domain=SsoDomain.objects.get(organisation=org, domain=name), method="command")
    return org


def provider_sign_in(browser, authorize: str, username: str):
    """At the provider: sign in as `username`, come back with the answer; the gateway's callback response."""
    r = browser.get(authorize)  # not signed in at the provider yet
    assert r.status_code == 302, r.text
    login_url = urljoin(authorize, r.headers["location"])
    r = browser.post(login_url, data={"username": username, "password": PASSWORD})
    assert r.status_code == 302, r.text
    r = browser.get(urljoin(login_url, r.headers["location"]))  # authorize again, now signed in
    assert r.status_code == 302 and "/sso/callback/?" in r.headers["location"], r.text
    return browser.get(r.headers["location"])


def sso_login(browser, org, username: str):
    r = browser.get(f"/sso/{org.public_id}/login/")
    assert r.status_code == 302, r.text
    return provider_sign_in(browser, r.headers["location"], username)


def provider_sign_out(browser, provider):
    """Forget the provider's session (its cookie), so the next flow signs in afresh."""
    for name in list(browser.cookies.keys()):
        if name.startswith("op_"):
            del browser.cookies[name]
