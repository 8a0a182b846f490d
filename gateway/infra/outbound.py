"""The one rule for every URL the server itself fetches (webhooks, SSO issuers and the URLs their discovery
documents name, anything crawled later): http or https, and only to public addresses.

An address is public when Python calls it global and every IPv4 address an IPv6 address carries is global too:
IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), 6to4 (`2002::/16`), NAT64 (`64:ff9b::/96` and the
local-use `64:ff9b:1::/48`) and Teredo (`2001::/32`, server and client). Those forms reach an IPv4 address through
a relay or the kernel, so `[::127.0.0.1]` must be refused like `127.0.0.1`.

`request` (and `stream`, which hands the response over unread, for callers that cap its size) resolves the host
once, checks every address it got, and connects to the checked one (the Host header and TLS name stay the host's),
so a DNS answer that changes between the check and the connection (rebinding) cannot move the request to another
address. Redirects are never followed: a 3xx is an answer like any other; a caller that follows one calls again
with its Location, which is checked like the first URL.
"""

import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class Refused(Exception):
    """The URL may not be fetched; the message is safe to show to the person who gave it."""


class NotPublic(Refused):
    """The host resolves to an address that is not public (and private ones are not allowed)."""


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (none for an IPv4 address)."""
    if address.version == 4:
        return []
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d; `::` and `::1` are IPv6's own
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if any(address in prefix for prefix in NAT64_PREFIXES):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: Address | str) -> bool:
    if isinstance(address, str):
        address = ipaddress.ip_address(address.split("%")[0])
    return address.is_global and all(inner.is_global for inner in embedded_ipv4(address))


def resolve(host: str, *, allow_private: bool) -> list[Address]:
    """Every address `host` resolves to, all of them public unless `allow_private`; Refused otherwise."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused("The address does not resolve.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise Refused("The address does not resolve.")
    if not allow_private and not all(is_public(a) for a in addresses):
        raise NotPublic("The address must be public (not this server's own network).")
    return addresses


def _host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("Enter an http or https URL.")
    return parts.hostname


def check_url(url: str, *, allow_private: bool) -> None:
    """Refused for another scheme, no host, or (unless `allow_private`) a host that resolves to a private address.
    A saved URL is checked again when fetched (`request`): its DNS may say something else by then."""
    host = _host(url)
    if not allow_private:
        resolve(host, allow_private=False)


def request(method: str, url: str, *, allow_private: bool, timeout: float | httpx.Timeout,
            headers: dict | None = None, **kwargs) -> httpx.Response:
    """One request to `url`, connected to the address that was checked; no redirects followed.

    Raises Refused, or httpx.HTTPError when the server cannot be reached."""
    with stream(method, url, allow_private=allow_private, timeout=timeout, headers=headers, **kwargs) as response:
        response.read()
        return response


@contextmanager
def stream(method: str, url: str, *, allow_private: bool, timeout: float | httpx.Timeout,
           headers: dict | None = None, **kwargs) -> Iterator[httpx.Response]:
    """`request`, with the response's body left unread (iter_bytes) until the block ends: the caller caps it."""
    address = resolve(_host(url), allow_private=allow_private)[0]
    parts = urlsplit(url)
    pinned = f"[{address}]" if address.version == 6 else str(address)
    if parts.port is not None:
        pinned += f":{parts.port}"
    host_header = parts.netloc.rpartition("@")[2]  # no credentials in a URL reach the Host header
    server_name = parts.hostname
    if not host_header.isascii():  # an internationalised name travels in its IDNA form
        host_header, server_name = host_header.encode("idna").decode(), server_name.encode("idna").decode()
    target = urlunsplit((parts.scheme, pinned, parts.path or "/", parts.query, ""))
    # No proxy from the environment: a proxy would connect wherever its own DNS says, past the check.
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=tls_context()) as client:
        built = client.build_request(method, target, headers={**(headers or {}), "Host": host_header},
                                     extensions={"sni_hostname": server_name}, **kwargs)
        response = client.send(built, stream=True)
        try:
            yield response
        finally:
            response.close()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verifying context, made once for the process: loading the CA bundle took about 100 ms per
    client. The outbound clients here, the knowledge embedder's and the tests' (gateway/testing/loopback.py) pass it
    as `verify`."""
    return httpx.create_ssl_context(trust_env=False)  # as the client itself made it: trust_env=False
