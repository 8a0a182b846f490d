"""The outbound address rule as the crawler applies it: the one place knowledge asks whether it may fetch a host.

Loopback, private, link-local and other non-public addresses are refused unless
KNOWLEDGE_ALLOW_PRIVATE is True. Every hop of a redirect is checked again
(knowledge/fetching.py), so a public page cannot redirect the crawler inside.
"""

from django.conf import settings

from alerts.forms import is_public_address


def may_fetch(host: str) -> bool:
    """Whether the crawler may connect to `host` (every address it resolves to is public, or private ones are allowed)."""
    if settings.KNOWLEDGE_ALLOW_PRIVATE:
        return True
    return is_public_address(host)
