"""The outbound address rule as the crawler applies it: the one place knowledge connects to a site.

The rule itself is gateway/infra/outbound.py, shared with webhooks and SSO issuers: loopback, private,
link-local and other non-public addresses (IPv4 inside IPv6 included) are refused unless
KNOWLEDGE_ALLOW_PRIVATE is True. Its pinned request connects to the very address it checked, so a
name whose DNS answer changes between the check and the connection (rebinding) cannot move the
crawler inside. Redirects are not followed there: knowledge/fetching.py follows them hop by hop,
each hop through here again.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from gateway.infra import outbound
from knowledge.errors import SourceError


@contextmanager
def opened(url: str, *, headers: dict, timeout: httpx.Timeout) -> Iterator[httpx.Response]:
    """A GET of `url` under the rule, its body unread; SourceError (with the reason) when the rule refuses it."""
    host = urlsplit(url).hostname or ""
    try:
        with outbound.stream("GET", url, allow_private=settings.KNOWLEDGE_ALLOW_PRIVATE, timeout=timeout,
                             headers=headers) as response:
            yield response
    except outbound.NotPublic:
        raise SourceError(f"{host[:200]} is a private or loopback address: the crawler does not go there.") from None
    except outbound.Refused as exc:
        raise SourceError(f"{url[:200]}: {exc}") from None
