"""The one address rule for outbound URLs (gateway/infra/outbound.py): one table, every form of address."""

import ipaddress

import pytest

from gateway.infra import outbound
from gateway.testing.webhook_receiver import start_receiver

# (address, public?) — every IPv4 an IPv6 address carries is unwrapped and checked too.
TABLE = [
    ("93.184.215.14", True),
    ("1.1.1.1", True),
    ("127.0.0.1", False),
    ("10.1.2.3", False),
    ("172.16.0.1", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),  # cloud metadata
    ("100.64.0.1", False),  # carrier-grade NAT
    ("0.0.0.0", False),
    ("2606:4700:4700::1111", True),
    ("::1", False),
    ("::", False),
    ("fe80::1", False),
    ("fd00::1", False),
    ("::127.0.0.1", False),  # IPv4-compatible
    ("::10.0.0.1", False),
    ("::ffff:127.0.0.1", False),  # IPv4-mapped
    ("::ffff:169.254.169.254", False),
    ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
    ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
    ("2002:5db8:d70e::1", True),  # 6to4 of a public address
    ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
    ("64:ff9b:1::a00:1", False),  # local-use NAT64 of 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, client 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo, client 192.0.2.45 (documentation)
]


@pytest.mark.parametrize("address, public", TABLE)
def test_the_address_rule(address, public):
    assert outbound.is_public(address) is public
    assert outbound.is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("address, public", TABLE)
def test_a_url_to_the_address_is_refused_unless_public(address, public):
    host = f"[{address}]" if ":" in address else address
    if public:
        outbound.check_url(f"https://{host}/x", allow_private=False)
        assert outbound.resolve(address, allow_private=False) == [ipaddress.ip_address(address)]
    else:
        with pytest.raises(outbound.Refused, match="must be public"):
            outbound.check_url(f"https://{host}/x", allow_private=False)
        outbound.check_url(f"https://{host}/x", allow_private=True)
        assert outbound.resolve(address, allow_private=True) == [ipaddress.ip_address(address)]


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http:///nohost", "gopher://1.1.1.1/"])
def test_only_http_and_https_urls_with_a_host(url):
    with pytest.raises(outbound.Refused, match="http or https"):
        outbound.check_url(url, allow_private=True)


def test_a_name_that_resolves_to_loopback_is_refused():
    with pytest.raises(outbound.Refused, match="must be public"):
        outbound.check_url("http://localhost:8000/", allow_private=False)


@pytest.fixture(scope="module")
def receiver():
    app, server = start_receiver()
    app.url = server.url + "/hook"
    yield app
    server.stop()


def test_a_redirect_is_not_followed_and_the_request_goes_to_the_checked_address(receiver):
    receiver.reset(plan=["redirect"])
    url = receiver.url.replace("127.0.0.1", "localhost")
    response = outbound.request("GET", url, allow_private=True, timeout=5)
    assert response.status_code == 302 and response.headers["location"] == "/followed"
    assert [r["path"] for r in receiver.wait_for(1)] == ["/hook"]  # /followed was never asked for
    assert response.request.url.host in ("127.0.0.1", "::1")  # connected to the address that was checked
    assert receiver.received[0]["headers"]["host"] == url.split("/")[2]  # the host's own name, port included


def test_without_the_private_allowance_a_loopback_url_is_never_connected_to(receiver):
    receiver.reset()
    with pytest.raises(outbound.Refused):
        outbound.request("GET", receiver.url, allow_private=False, timeout=5)
    assert receiver.received == []
