import pytest

from gateway.testing.servers import ThreadedUvicorn
from knowledge.testing import LoopbackSite


@pytest.fixture(scope="session")
def site_server():
    server = ThreadedUvicorn(LoopbackSite()).start()
    yield server
    server.stop()


@pytest.fixture
def site(site_server, settings):
    """A small website on loopback, emptied for each test; the crawler may fetch loopback addresses."""
    settings.KNOWLEDGE_ALLOW_PRIVATE = True
    site_server.app.pages.clear()
    site_server.app.requests.clear()
    site_server.app.url = site_server.url
    return site_server.app
