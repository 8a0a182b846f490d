"""The outbound address rule as the crawler applies it: the one place knowledge asks whether it may fetch a host.

The rule itself is gateway/infra/outbound.py, shared with webhooks and SSO issuers: loopback, private,
link-local and other non-public addresses (IPv4 inside IPv6 included) are refused unless
KNOWLEDGE_ALLOW_PRIVATE is True. Every hop of a redirect is checked again (knowledge/fetching.py), so a
public page cannot redirect the crawler inside.
"""

from django.conf import settings

from gateway.infra import outbound


def may_fetch(host: str) -> bool:
    """Whether the crawler may connect to `host` (every address it resolves to is public, or private ones are allowed)."""
    try:
        outbound.resolve(host, allow_private=settings.KNOWLEDGE_ALLOW_PRIVATE)
    except outbound.Refused:
        return False
    return True
