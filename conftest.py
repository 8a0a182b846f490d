"""Shared fixtures: a real gateway on loopback, a real fake provider, owners, channels and keys."""

import os
from pathlib import Path

(Path(__file__).parent / "var").mkdir(exist_ok=True)  # home of the SQLite test database

# Settings are read from the environment, so the test values go in before Django loads.
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("KEY_ENCRYPTION_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
os.environ.setdefault("KEY_DIGEST_SECRET", "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=")
os.environ["ENV_FILE"] = ""  # a developer's .env must not leak into tests
os.environ["LLM_API_KEY"] = ""  # tests choose their provider explicitly
os.environ["LLM_BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing listens there
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("CACHE_KEY_PREFIX", f"gwtest{os.getpid()}")

import httpx  # noqa: E402
import pytest  # noqa: E402

from gateway.testing.api import UPSTREAM_KEY  # noqa: E402
from gateway.testing.fake_llm import FakeLLM  # noqa: E402
from gateway.testing.servers import ThreadedUvicorn  # noqa: E402



@pytest.fixture(scope="session")
def gateway_server(django_db_setup):
    from django.core.asgi import get_asgi_application

    server = ThreadedUvicorn(get_asgi_application()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_llm_server():
    app = FakeLLM()
    server = ThreadedUvicorn(app).start()
    server.app = app
    yield server
    server.stop()


@pytest.fixture
def llm(fake_llm_server, settings):
    """The gateway talks to a real OpenAI-compatible server on loopback for this test."""
    fake_llm_server.app.reset()
    settings.LLM_BASE_URL = f"{fake_llm_server.url}/v1"
    settings.LLM_API_KEY = UPSTREAM_KEY
    return fake_llm_server.app


@pytest.fixture
def api(gateway_server, transactional_db):
    """An HTTP client for the running gateway. Data made in the test is committed, so the server sees it."""
    with httpx.Client(base_url=gateway_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def owner(transactional_db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("owner@example.com", "owner@example.com", "pw-owner-123!")


@pytest.fixture
def outsider(transactional_db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("outsider@example.com", "outsider@example.com", "pw-outsider-123!")


def make_channel(owner, **kwargs):
    from channels_app.services import channel_create

    kwargs.setdefault("name", "Test site")
    return channel_create(owner=owner, **kwargs)


@pytest.fixture
def channel_and_key(owner):
    return make_channel(owner, credits=100)


@pytest.fixture
def channel(channel_and_key):
    return channel_and_key[0]


@pytest.fixture
def key(channel_and_key):
    """The plaintext secret key of `channel`."""
    return channel_and_key[1].plaintext


@pytest.fixture
def other_channel_and_key(outsider):
    return make_channel(outsider, name="Other site", credits=100)

