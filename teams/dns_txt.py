"""TXT record look-ups for SSO domain verification, with dnspython: through SSO_DNS_NAMESERVERS (and SSO_DNS_PORT)
when set, else the system's resolver configuration."""

import dns.exception
import dns.resolver
from django.conf import settings


def _resolver() -> dns.resolver.Resolver:
    if settings.SSO_DNS_NAMESERVERS:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = list(settings.SSO_DNS_NAMESERVERS)
        resolver.port = settings.SSO_DNS_PORT
    else:
        resolver = dns.resolver.Resolver()
    resolver.lifetime = settings.SSO_TIMEOUT_SECONDS
    return resolver


def lookup(name: str) -> list[str]:
    """The TXT values at `name` (each record's strings joined), or [] when there are none or DNS fails."""
    try:
        answer = _resolver().resolve(name, "TXT", search=False)
    except dns.exception.DNSException:
        return []
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
