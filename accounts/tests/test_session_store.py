"""A database dump does not make anyone an owner: sessions are stored under a digest of their key.

The attack: log in through real HTTP, read the session table as a dump would, send a value from it as
the `sessionid` cookie, and try the dashboard and a key reveal (the login is fresh, so a real session
could reveal). Also with a real `pg_dump` on PostgreSQL.
"""

import asyncio
import hashlib
import re
import shutil

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_app.tests.test_api_key_storage import pg_dump

PASSWORD = "pw-owner-123!"


def _login(web) -> str:
    r = web.submit("/accounts/login/", {"username": "owner@example.com", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
    return web.cookies[settings.SESSION_COOKIE_NAME]


def _reveal(client, channel, api_key):
    return client.post(
        f"/dashboard/channels/{channel.public_id}/keys/{api_key.public_id}/reveal/",
        data={"csrfmiddlewaretoken": client.csrf_token},
        headers={"Accept": "application/json"},
    )


def _as_cookie(web_factory, value: str):
    client = web_factory()
    client.cookies.set(settings.SESSION_COOKIE_NAME, value)
    return client


@pytest.fixture
def new_web(gateway_server):
    from accounts.testing import WebClient

    clients = []

    def make():
        clients.append(WebClient(base_url=gateway_server.url))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def _dumped_session_values() -> list[str]:
    """Every value of every row of every session table, as `pg_dump` or `SELECT *` would give them."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if "session" in table:
                cursor.execute(f'SELECT * FROM "{table}"')
                values += [str(v) for row in cursor.fetchall() for v in row]
    return values


def test_a_session_key_read_from_the_database_opens_nothing(web, new_web, owner, channel_and_key):
    channel, issued = channel_and_key
    real = _login(web)
    dumped = _dumped_session_values()
    assert dumped  # the session row is there

    for value in dumped:
        attacker = _as_cookie(new_web, value)
        assert attacker.get("/dashboard/").status_code == 302  # to the login page
        r = _reveal(attacker, channel, issued.api_key)
        assert r.status_code in (302, 403) and issued.plaintext not in r.text
    assert real not in dumped

    # The owner's real cookie still works, and can reveal (fresh login).
    assert web.get("/dashboard/").status_code == 200
    assert _reveal(web, channel, issued.api_key).json()["key"] == issued.plaintext


def test_a_pg_dump_holds_no_usable_session(web, new_web, owner, channel_and_key):
    if connection.vendor != "postgresql" or shutil.which("pg_dump") is None:
        pytest.skip("pg_dump needs PostgreSQL (DATABASE_URL) and the pg_dump client")
    channel, issued = channel_and_key
    real = _login(web)
    dump = pg_dump()
    # Every 32+-character token of the dump, tried as a cookie: none opens the dashboard.
    candidates = set(re.findall(r"\b[a-z0-9]{32,64}\b", dump))
    assert candidates
    for value in candidates:
        attacker = _as_cookie(new_web, value)
        assert attacker.get("/dashboard/").status_code == 302
        assert issued.plaintext not in _reveal(attacker, channel, issued.api_key).text
    assert real not in dump
    assert hashlib.sha256(real.encode()).hexdigest() in dump  # the dump really holds the session row, by digest
    assert web.get("/dashboard/").status_code == 200


def test_the_stored_key_is_the_sha256_of_the_cookie(web, owner):
    from accounts.models import HashedSession
    from accounts.session_store import session_key_digest

    real = _login(web)
    assert list(HashedSession.objects.values_list("session_key", flat=True)) == [session_key_digest(real)]
    assert session_key_digest(real) == hashlib.sha256(real.encode()).hexdigest()


def test_logout_and_login_again_remove_the_old_rows(web, owner):
    from accounts.models import HashedSession
    from accounts.session_store import session_key_digest

    first = _login(web)
    web.submit("/accounts/logout/")
    assert not HashedSession.objects.filter(session_key=session_key_digest(first)).exists()
    second = _login(web)
    assert second != first
    assert list(HashedSession.objects.values_list("session_key", flat=True)) == [session_key_digest(second)]


def test_django_queries_sessions_only_through_the_overridden_methods(transactional_db):
    """Tripwire for a Django upgrade: accounts/session_store.py overrides the methods of Django's db
    SessionStore that take a session key to the database. If any public operation ever sends the raw
    key in a query (a new method querying by key), this fails."""
    from accounts.models import HashedSession
    from accounts.session_store import SessionStore, session_key_digest

    store = SessionStore()
    with CaptureQueriesContext(connection) as queries:
        store["a"] = 1
        store.create()
        raw = store.session_key
        store["b"] = 2
        store.save()
        loaded = SessionStore(raw)
        assert loaded["b"] == 2
        assert loaded.exists(raw)
        loaded.cycle_key()
        cycled = loaded.session_key
        loaded.save()
        assert SessionStore(cycled)["a"] == 1
        assert not SessionStore(raw).exists(raw)
        SessionStore(cycled).flush()
        SessionStore.clear_expired()
        assert SessionStore(cycled).load() == {}
    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    assert raw not in sql and cycled not in sql
    assert session_key_digest(raw) in sql
    assert not HashedSession.objects.exists()


def test_the_async_methods_store_digests_too(transactional_db):
    from accounts.models import HashedSession
    from accounts.session_store import SessionStore, session_key_digest

    async def lifecycle():
        store = SessionStore()
        store["a"] = 1
        await store.acreate()
        raw = store.session_key
        keys = [k async for k in HashedSession.objects.values_list("session_key", flat=True)]
        assert keys == [session_key_digest(raw)]
        assert (await SessionStore(raw).aload()) == {"a": 1}
        assert await store.aexists(raw)
        await store.adelete()
        assert not await store.aexists(raw)
        await sync_to_async(lambda: connection.close())()  # the worker thread's connection, back to its pool

    asyncio.run(lifecycle())
    if hasattr(connection, "close_pool"):  # PostgreSQL: no pooled connection may outlive the test database
        connection.close_pool()
