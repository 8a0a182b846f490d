"""Shared fixtures: a real gateway on loopback, a real fake provider, owners, channels and keys."""

import functools

import httpx
import pytest

from gateway.testing.api import UPSTREAM_KEY
from gateway.testing.fake_llm import FakeLLM
from gateway.testing.servers import ThreadedUvicorn


_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}


@pytest.fixture(autouse=True)
def model_catalog(request):
    """The catalog the migrations seeded (channels_app/catalog_seed.py), for every test that uses the database.

    A transactional test empties every table when it ends, the catalog's too;
    the next test gets it back here, and no process keeps a copy read before.
    """
    uses = _DB_FIXTURES & set(request.fixturenames)
    if request.node.get_closest_marker("django_db") is None and not uses:
        yield
        return
    if uses:  # (a django_db marker has opened the database already)
        request.getfixturevalue("transactional_db" if uses - {"db"} else "db")
    from django.apps import apps

    from channels_app import catalog, catalog_seed

    catalog_seed.seed(apps)
    catalog.forget()
    yield
    catalog.forget()


@pytest.fixture(scope="session")
def gateway_server(django_db_setup):
    from gateway.asgi import application  # the production entry point, body limit included

    # Lifespan on: at shutdown it closes its provider session and its event-loop database pool, which
    # must be gone before the test database is dropped; the grace bounds how long open requests delay it.
    server = ThreadedUvicorn(application, lifespan="on", timeout_graceful_shutdown=3).start()
    yield server
    server.stop()
    # Close PostgreSQL's pool (its idle connections) so the test database can be dropped.
    from django.db import connections

    for alias in connections:
        if hasattr(connections[alias], "close_pool"):
            connections[alias].close_pool()


@pytest.fixture(scope="session")
def fake_llm_server():
    server = ThreadedUvicorn(FakeLLM()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def second_llm_server():
    """Another OpenAI-compatible server on loopback: a second provider staff configure."""
    server = ThreadedUvicorn(FakeLLM()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def recorded_llm_server():
    """Real providers' recorded answers, replayed byte for byte (gateway/testing/provider_traffic)."""
    from gateway.testing.recorded_llm import RecordedLLM

    # No date/server headers of its own: the replayed headers are the recorded ones.
    server = ThreadedUvicorn(RecordedLLM(), server_header=False, date_header=False).start()
    yield server
    server.stop()


@pytest.fixture
def llm(fake_llm_server, settings):
    """The gateway talks to a real OpenAI-compatible server on loopback for this test."""
    from conversations.resilience import reset_breakers

    fake_llm_server.app.reset()
    reset_breakers()
    settings.LLM_BASE_URL = f"{fake_llm_server.url}/v1"
    settings.LLM_API_KEY = UPSTREAM_KEY
    settings.LLM_RETRY_BACKOFF_BASE = 0.01  # test-only speed-up: retries wait milliseconds, not seconds
    return fake_llm_server.app


@pytest.fixture
def api(gateway_server, transactional_db):
    """An HTTP client for the running gateway. Data made in the test is committed, so the server sees it."""
    with httpx.Client(base_url=gateway_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def owner(transactional_db):
    return make_user("owner@example.com", "pw-owner-123!")


@pytest.fixture
def outsider(transactional_db):
    return make_user("outsider@example.com", "pw-outsider-123!")


@functools.cache
def _password_hash(password: str, hashers: tuple[str, ...]) -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(password)


def make_user(email: str, password: str, *, staff: bool = False):
    """A user whose password is `password`, hashed by the configured hasher (PBKDF2, as in production) once per
    run and password, not once per test: its million rounds take most of a second, in every test with an owner."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    manager = get_user_model().objects
    user = (manager.create_superuser if staff else manager.create_user)(email, email, None)
    user.password = _password_hash(password, tuple(settings.PASSWORD_HASHERS))
    user.save(update_fields=["password"])
    return user


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
def widget_key(channel):
    """`channel`'s publishable key, working from gateway.testing.api.WIDGET_ORIGIN."""
    from channels_app.services import channel_set_allowed_origins, publishable_key_issue
    from gateway.testing.api import WIDGET_ORIGIN

    channel_set_allowed_origins(channel=channel, allowed_origins=[WIDGET_ORIGIN])
    return publishable_key_issue(channel=channel).key


@pytest.fixture
def other_channel_and_key(outsider):
    return make_channel(outsider, name="Other site", credits=100)


# --- Dashboard tests: a browser-like HTTP client for the running gateway. ---


@pytest.fixture
def fast_password_hashing(settings):
    """Test-only speed-up: MD5 instead of PBKDF2's million rounds (0.3 s per user)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def web(gateway_server, transactional_db):
    """A logged-out browser-like client of the running gateway: keeps cookies, sends CSRF tokens."""
    from accounts.testing import WebClient, reset_account_throttles

    reset_account_throttles()  # every test starts with its address's sign-up allowance
    with WebClient(base_url=gateway_server.url) as client:
        yield client


@pytest.fixture
def owner_web(web, owner):
    """`web`, logged in as `owner` (a fresh login, so keys can be revealed)."""
    web.force_login(owner)
    return web


@pytest.fixture
def outsider_web(gateway_server, outsider):
    from accounts.testing import WebClient

    with WebClient(base_url=gateway_server.url) as client:
        client.force_login(outsider)
        yield client


@pytest.fixture
def staff(transactional_db):
    return make_user("staff@example.com", "pw-staff-123!", staff=True)


@pytest.fixture
def staff_web(gateway_server, staff):
    from accounts.testing import WebClient

    with WebClient(base_url=gateway_server.url) as client:
        client.force_login(staff)
        yield client


# --- E-mail: a real SMTP server on loopback. ---


@pytest.fixture(scope="session")
def smtp_server():
    from gateway.testing.smtp import SmtpSink

    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def mailbox(smtp_server, settings):
    """The gateway sends mail over SMTP to a real server on loopback; the test reads what arrived."""
    smtp_server.reset()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    return smtp_server
