import pytest

from gateway.testing.dns_server import DnsServer
from gateway.testing.oidc_provider import OidcProvider


@pytest.fixture(autouse=True)
def _fast_hashing(fast_password_hashing):
    pass


@pytest.fixture(scope="session")
def oidc_provider(gateway_server):
    """The loopback OpenID provider (django-oauth-toolkit in its own process), one for the session: each test
    asserts the claims it needs (`provider.assert_claims`), and they are forgotten after it."""
    provider = OidcProvider(redirect_uri=f"{gateway_server.url}/sso/callback/", users=[]).start()
    yield provider
    provider.stop()


@pytest.fixture
def provider(oidc_provider, settings):
    settings.SSO_ALLOW_PRIVATE_ISSUERS = True  # the provider is on loopback
    yield oidc_provider
    oidc_provider.reset_claims()


@pytest.fixture(scope="session")
def dns_server():
    server = DnsServer().start()
    yield server
    server.stop()


@pytest.fixture
def dns(dns_server, settings):
    """A real DNS server on loopback that the gateway's TXT look-ups go to; `dns.records[name] = [value]`."""
    settings.SSO_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.SSO_DNS_PORT = dns_server.port
    dns_server.records.clear()
    yield dns_server
    dns_server.records.clear()
