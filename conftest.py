"""Shared fixtures: the gateway (in this process, or live on loopback), a real fake provider, owners, channels and keys.

The HTTP clients (`api`, `web`, `owner_web`, `outsider_web`, `staff_web`) send
their requests through the production ASGI entry point, `gateway.asgi.application`.
By default they call it in this process on the test's rolled-back transaction
(gateway/testing/in_process.py). A test marked `live`, or one that uses
`gateway_server` itself, gets the session's uvicorn on a socket instead, with
committed data (`transactional_db`) that uvicorn's threads can see. docs/testing.md.
"""

import functools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from gateway.testing import loopback
from gateway.testing.api import UPSTREAM_KEY
from gateway.testing.fake_llm import FakeLLM
from gateway.testing.servers import ThreadedUvicorn

_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete():
    """After a transactional test PostgreSQL is emptied by DELETE, not TRUNCATE (gateway/overrides/flush_by_delete.py),
    and the content types and permissions stay instead of being made again (flush_keeps_post_migrate_rows.py)."""
    from gateway.overrides import flush_by_delete, flush_keeps_post_migrate_rows

    flush_by_delete.install()
    flush_keeps_post_migrate_rows.install()


@pytest.fixture
def quiet_process(request):
    """Nothing an earlier test left behind in this process runs while this test measures process-wide state (the
    threaded pool's count, the key cache's generation): a job's retry on the job thread, or, for a `live` test, a
    request its client gave up on, still running on the session's server."""
    from gateway.infra import jobs

    runner = jobs.backend()
    runner.drain()
    runner.stop()  # pending retries of earlier tests' jobs are dropped; the next job starts the thread again
    if request.node.get_closest_marker("live"):
        assert request.getfixturevalue("gateway_server").wait_idle()


@pytest.fixture(autouse=True)
def no_test_straddles_utc_midnight():
    """Daily counters start again at 00:00 UTC; a test that began a minute before would see its day's count vanish."""
    from gateway.testing.limits import wait_for_fresh_utc_day

    wait_for_fresh_utc_day()


@pytest.fixture(autouse=True)
def model_catalog(request):
    """The catalog the migrations seeded (channels_app/providers/catalog_seed.py), for every test that uses the database.

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

    from channels_app import key_cache
    from channels_app.providers import catalog, catalog_seed

    # A test on a rolled-back transaction finds the catalog as the last one left it; only a transactional test's
    # flush empties it. So one query tells whether to seed (seeding before every test took 45 s of a run's samples).
    if not catalog_seed.seeded(apps):
        catalog_seed.seed(apps)
        key_cache.invalidate()  # as the rows' save signals would have (seed inserts in bulk)
    catalog.forget()
    yield
    catalog.forget()


@pytest.fixture(autouse=True)
def jobs_end_before_the_flush(model_catalog):
    """A job a test queued (a knowledge source's ingestion, say) may still be writing on the job thread when the test
    ends. A transactional test's flush then waits on its row locks, and on PostgreSQL the flush's table locks and the
    job's next write deadlock: the flush fails and leaves the test's rows to the next test. So the job thread is
    waited for until idle first (no wait when nothing runs). Set up after model_catalog, which opens the database:
    torn down before the flush."""
    yield
    from gateway.infra import jobs

    jobs.backend().drain()


E2E = Path(__file__).resolve().parent / "e2e"


_RUN_DIRECTORY = pytest.StashKey[str]()


def pytest_configure(config):
    """The run's shared directory (gateway/testing/processes.py, RUN_DIRECTORY): made by the process that starts the
    run, before pytest-xdist starts its workers, which inherit it."""
    from gateway.testing.processes import RUN_DIRECTORY

    if RUN_DIRECTORY not in os.environ:
        os.environ[RUN_DIRECTORY] = config.stash[_RUN_DIRECTORY] = tempfile.mkdtemp(prefix="gw-test-run-")


def pytest_sessionfinish(session):
    """Close the browser the last browser modules of this process used (gateway/testing/browser.py)."""
    from gateway.testing import browser

    browser.close()


def pytest_unconfigure(config):
    from gateway.testing.processes import RUN_DIRECTORY

    if _RUN_DIRECTORY in config.stash:
        shutil.rmtree(config.stash[_RUN_DIRECTORY], ignore_errors=True)
        os.environ.pop(RUN_DIRECTORY, None)


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(E2E):  # a browser is a client of its own: it needs the gateway on a socket
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.live)
        if "gateway_server" in getattr(item, "fixturenames", ()) and item.get_closest_marker("live") is None:
            item.add_marker(pytest.mark.live)
        if item.get_closest_marker("live") is not None:
            # Committed data, so the server's threads see it; first, so it is the closest django_db marker.
            item.add_marker(pytest.mark.django_db(transaction=True), append=False)


def pytest_runtest_setup(item):
    """A test marked with a service this run lacks is skipped, saying how to get it (gateway/testing/needs.py)."""
    from gateway.testing import browser
    from gateway.testing.needs import missing

    if not item.path.is_relative_to(E2E):
        browser.close()  # its event loop in this thread would stop an in-process test (gateway/testing/browser.py)

    names = {marker.name for marker in item.iter_markers()}
    if "standalone" in names and (_DB_FIXTURES & set(item.fixturenames) or "django_db" in names):
        # CI runs a standalone test in one of its two database passes only: it must not be using the run's database.
        pytest.fail("a test marked standalone uses the run's database; drop the mark (or the database)")
    reasons = missing(names)
    if reasons and "browser" in names and os.environ.get("CI"):
        pytest.fail("; ".join(reasons))  # CI installs Chromium: a browser test that cannot run is a broken CI
    if reasons:
        pytest.skip("; ".join(reasons))


@pytest.fixture
def gateway_target(request, db, settings):
    """The keyword arguments of an httpx client that reaches the gateway this test talks to (see the module's doc)."""
    if request.node.get_closest_marker("live") is not None:
        return {"base_url": request.getfixturevalue("gateway_server").url}
    from gateway.asgi import application
    from gateway.testing.in_process import BASE_URL, InProcessTransport

    # The ORM store works inside the test's transaction; the PostgreSQL store's own pool could not see it.
    settings.CHAT_STORE = "conversations.engine.store.orm.OrmStore"
    return {"base_url": BASE_URL, "transport": InProcessTransport(application)}


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
    from channels_app.providers.resilience import reset_breakers

    fake_llm_server.app.reset()
    reset_breakers()
    settings.LLM_BASE_URL = f"{fake_llm_server.url}/v1"
    settings.LLM_API_KEY = UPSTREAM_KEY
    settings.LLM_RETRY_BACKOFF_BASE = 0.01  # test-only speed-up: retries wait milliseconds, not seconds
    return fake_llm_server.app


@pytest.fixture
def api(gateway_target):
    """An HTTP client of the gateway (gateway_target: in this process by default, on a socket for a `live` test)."""
    with loopback.Client(timeout=30, **gateway_target) as client:
        yield client


@pytest.fixture
def owner(db):
    return make_user("owner@example.com", "pw-owner-123!")


@pytest.fixture
def outsider(db):
    return make_user("outsider@example.com", "pw-outsider-123!")


@functools.cache
def _password_hash(password: str, hashers: tuple[str, ...]) -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(password)


def make_user(email: str, password: str, *, staff: bool = False):
    """A user whose password is `password`, hashed by the configured hasher once per run, not once per test
    (PBKDF2's million rounds take most of a second)."""
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
def web(gateway_target):
    """A logged-out browser-like client of the gateway: keeps cookies, sends CSRF tokens."""
    from accounts.testing import WebClient, reset_account_throttles

    reset_account_throttles()  # every test starts with its address's sign-up allowance
    with WebClient(**gateway_target) as client:
        yield client


@pytest.fixture
def owner_web(web, owner):
    """`web`, logged in as `owner` (a fresh login, so keys can be revealed)."""
    web.force_login(owner)
    return web


@pytest.fixture
def outsider_web(gateway_target, outsider):
    from accounts.testing import WebClient

    with WebClient(**gateway_target) as client:
        client.force_login(outsider)
        yield client


@pytest.fixture
def staff(db):
    return make_user("staff@example.com", "pw-staff-123!", staff=True)


@pytest.fixture
def staff_web(gateway_target, staff):
    from accounts.testing import WebClient

    with WebClient(**gateway_target) as client:
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
